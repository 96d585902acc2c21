"""Ingest throughput: our whole `Ingestor.run` against raw `SentenceTransformer.encode` on the same texts."""

from __future__ import annotations

import os
import time
from pathlib import Path

from qa_bot.settings import Settings


def raw_encoder(settings: Settings):
    """A second, independent SentenceTransformer of the same model: the library with nothing of ours around it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    from qa_bot.retrieval.embeddings import model_path

    path = model_path(settings.embed_model, Path(settings.model_cache))
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


class RecordingEmbedder:
    """Passes through to the real embedder and keeps the texts, so the raw run encodes exactly the same ones."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.texts: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str]):
        self.texts.extend(texts)
        return self.inner.embed(texts)


def bench_ingest(settings: Settings, embedder, raw_model, paths: list[Path], work: Path) -> dict:
    """Time one full ingest of `paths` into a fresh index, raw encode of its chunk texts, then a no-op re-ingest."""
    from qa_bot.factory import build_ingestor, build_store

    s = settings.model_copy(update={"index_dir": work / "ingest-index", "chroma_url": ""})
    store = build_store(s)
    rec = RecordingEmbedder(embedder)
    ing = build_ingestor(s, embedder=rec, store=store)
    t0 = time.perf_counter()
    report = ing.run(paths, progress=False)
    pipeline_s = time.perf_counter() - t0
    texts = list(rec.texts)
    raw_model.encode(texts[:8], batch_size=s.embed_batch_size, normalize_embeddings=True, show_progress_bar=False)
    t0 = time.perf_counter()
    raw_model.encode(
        texts, batch_size=s.embed_batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = build_ingestor(s, embedder=rec, store=store).run(paths, progress=False)
    reingest_s = time.perf_counter() - t0
    pipe_rate = report.chunks / pipeline_s if pipeline_s else 0.0
    raw_rate = len(texts) / raw_s if raw_s else 0.0
    return {
        "chunks": report.chunks,
        "files": report.added,
        "failed": len(report.failed),
        "pipeline_s": round(pipeline_s, 3),
        "raw_encode_s": round(raw_s, 3),
        "pipeline_chunks_per_s": round(pipe_rate, 2),
        "raw_encode_chunks_per_s": round(raw_rate, 2),
        "ratio": round(pipe_rate / raw_rate, 3) if raw_rate else 0.0,
        "reingest_unchanged_s": round(reingest_s, 3),
        "reingest_unchanged_files": again.unchanged,
    }
