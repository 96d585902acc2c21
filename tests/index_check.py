"""Helpers for tests: a full snapshot of an index, checked for internal consistency."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def snapshot(index_dir: Path, collection: str = "qa_bot") -> dict:
    """Everything an index holds, after asserting it agrees with itself.

    Open each index here only once its writers are done: chromadb caches clients per path, so a view
    opened before another process writes can be stale.
    """
    from qa_bot.ingest.manifest import Manifest
    from qa_bot.retrieval.bm25 import BM25Index
    from qa_bot.retrieval.store import ChromaStore, make_client

    index_dir = Path(index_dir)
    m = Manifest.load(index_dir / "manifest.json")
    assert m is not None, "manifest missing or unreadable"
    assert not m.dirty, "the index was left dirty"
    store = ChromaStore(make_client(index_dir), collection)
    got = store.col.get(include=["documents", "metadatas", "embeddings"])
    ids = list(got["ids"])
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    chunks = {
        i: (md["doc_id"], md["source"], md["title"], doc, md["start"], md["end"], md["position"])
        for i, doc, md in zip(ids, got["documents"], got["metadatas"], strict=True)
    }
    vectors = {i: np.asarray(v, dtype=np.float32) for i, v in zip(ids, got["embeddings"], strict=True)}
    per_doc: dict[str, int] = {}
    for doc_id, *_ in chunks.values():
        per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
    sources = {k: (e.doc_id, e.source, e.title, e.sha256, e.chunks) for k, e in m.sources.items()}
    assert per_doc == {e.doc_id: e.chunks for e in m.sources.values() if e.chunks}, (
        "store and manifest disagree: orphan chunks or a source marked done without its chunks"
    )
    for cid, (doc_id, *_rest, pos) in chunks.items():
        assert cid == f"{doc_id}:{pos:05d}"
    # the vector index finds the stored chunks by their own vectors (a damaged HNSW segment would lose
    # many). HNSW is approximate: now and then a node is unreachable even in a clean index (seen with
    # the sparse fake vectors), so a few misses are tolerated.
    if ids:
        res = store.col.query(query_embeddings=[vectors[i] for i in ids], n_results=min(10, len(ids)), include=[])
        missed = [i for i, found in zip(ids, res["ids"], strict=True) if i not in found]
        assert len(missed) <= max(2, len(ids) // 100), f"vector search misses {len(missed)} chunks: {missed[:5]}"
    bm25 = BM25Index.load(index_dir / "bm25")
    assert bm25 is not None and sorted(bm25.ids) == sorted(ids), "BM25 out of step with the store"
    assert bm25.digest == m.bm25_digest == m.digest()
    return {
        "manifest": {"embedder": m.embedder, "dim": m.dim, "chunk_size": m.chunk_size, "chunk_overlap": m.chunk_overlap},
        "sources": sources,
        "chunks": chunks,
        "vectors": vectors,
    }


def assert_same_index(got: dict, want: dict, atol: float = 1e-5) -> None:
    """Two snapshots hold the same thing (vectors up to `atol`, for batch-dependent float noise)."""
    assert got["manifest"] == want["manifest"]
    assert set(got["sources"]) == set(want["sources"]), "manifest sources differ"
    assert got["sources"] == want["sources"]
    assert set(got["chunks"]) == set(want["chunks"]), "chunk ids differ"
    assert got["chunks"] == want["chunks"]
    worst = max((float(np.abs(got["vectors"][i] - want["vectors"][i]).max()) for i in want["vectors"]), default=0.0)
    assert worst <= atol, f"vectors differ by {worst}"


def describe(snap: dict) -> str:
    return json.dumps({"sources": len(snap["sources"]), "chunks": len(snap["chunks"])})
