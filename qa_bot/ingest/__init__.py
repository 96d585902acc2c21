"""Ingest: files in, chunks out. Loaders read txt/md/html/pdf/docx into text with offsets kept; chunking
splits it into passages; the pipeline embeds them into Chroma and BM25 under a manifest that makes an
interrupted ingest roll back, never leave a torn index; watch re-ingests a folder when it changes."""
