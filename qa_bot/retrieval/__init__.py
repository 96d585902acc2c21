"""Retrieval: finding the passages a question needs. The Chroma store and the BM25 index hold the chunks,
embeddings wraps the sentence-transformers model (shipped in a PyPI package), and hybrid fuses the dense
and lexical rankings into the sources a prompt shows."""
