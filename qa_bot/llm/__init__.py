"""LLM: the one seam to a language model. Backends speak to llama.cpp in process or to an
OpenAI-compatible server; gguf assembles and checks the model shipped in PyPI parts; kvcache keeps
prompt states in RAM and on disk; read_ahead computes them in the background before questions arrive."""
