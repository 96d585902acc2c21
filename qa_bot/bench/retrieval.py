"""Retrieval latency at growing corpus sizes: our dense / BM25 / hybrid calls against the raw library calls.

All variants run on the same query in turn (round-robin), so load from other processes on a shared
machine hits them alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from qa_bot.bench.corpus import SyntheticCorpus
from qa_bot.evaluation.metrics import percentile


class PrecomputedEmbedder:
    """Query vectors computed beforehand: times retrieval given the query vector (what the targets are about)."""

    def __init__(self, name: str, dim: int, table: dict[str, np.ndarray]):
        self.name, self.dim, self.table = name, dim, table

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts])


def _time_round_robin(variants: dict[str, Callable[[int], object]], n: int, warmup: int = 3) -> dict[str, list[float]]:
    for i in range(min(warmup, n)):
        for fn in variants.values():
            fn(i)
    times: dict[str, list[float]] = {k: [] for k in variants}
    for i in range(n):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn(i)
            times[name].append((time.perf_counter() - t0) * 1000)
    return times


def _measure(store, bm25, pre, embedder, queries: list[str], qvecs: np.ndarray, k: int, top_k: int) -> dict[str, list[float]]:
    from qa_bot.retrieval.hybrid import HybridRetriever
    from qa_bot.text import content_stems

    given = HybridRetriever(store, bm25, pre, top_k=top_k, candidates=k)
    full = HybridRetriever(store, bm25, embedder, top_k=top_k, candidates=k)
    col, raw_bm25 = store.col, bm25.retriever
    toks = [[t for t in content_stems(q) if t in raw_bm25.vocab_dict] for q in queries]

    def raw_dense(i: int):
        return col.query(query_embeddings=[qvecs[i]], n_results=k, include=["documents", "metadatas", "distances"])

    def raw_sparse(i: int):
        if not toks[i]:
            return []
        scores = raw_bm25.get_scores(toks[i])
        return np.argpartition(-scores, k - 1)[:k]

    given_query: dict[str, Callable[[int], object]] = {
        "dense": lambda i: given.dense(queries[i], k),
        "raw_dense": raw_dense,
        "bm25": lambda i: bm25.search(queries[i], k),
        "raw_bm25": raw_sparse,
        "hybrid": lambda i: given.retrieve(queries[i]),
        "raw_hybrid": lambda i: (raw_dense(i), raw_sparse(i)),
    }
    # A separate pass: torch's OpenMP threads keep spinning for a while after an encode, which would
    # slow whichever call came next and blur the comparison above.
    with_embedding: dict[str, Callable[[int], object]] = {
        "hybrid_with_embed": lambda i: full.retrieve(queries[i]),
        "embed": lambda i: embedder.embed([queries[i]]),
    }
    return {**_time_round_robin(given_query, len(queries)), **_time_round_robin(with_embedding, len(queries))}


def bench_sizes(
    client, corpus: SyntheticCorpus, sizes: dict[str, int], queries: list[str], qvecs: np.ndarray, embedder,
    *, collection: str = "qa_bot_bench", k: int = 20, top_k: int = 4, echo=print,
) -> dict[str, dict]:
    """For each size (ascending), grow one Chroma collection to that many chunks, rebuild BM25, and time queries."""
    from qa_bot.retrieval.bm25 import BM25Index, bm25_text
    from qa_bot.retrieval.store import ChromaStore

    try:
        client.delete_collection(collection)
    except Exception:  # not there yet
        pass
    store = ChromaStore(client, collection)
    table = {q: qvecs[i] for i, q in enumerate(queries)}
    pre = PrecomputedEmbedder(embedder.name, int(qvecs.shape[1]), table)
    out: dict[str, dict] = {}
    have = 0
    try:
        for label, n in sorted(sizes.items(), key=lambda kv: kv[1]):
            t0 = time.perf_counter()
            store.add(corpus.chunks[have:n], corpus.vectors[have:n])
            have = n
            chroma_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            bm25 = BM25Index.build([(c.id, bm25_text(c)) for c in corpus.chunks[:n]], "bench")
            bm25_s = time.perf_counter() - t0
            times = _measure(store, bm25, pre, embedder, queries, qvecs, k, top_k)
            row: dict[str, float | int | None] = {"chunks": n, "queries": len(queries)}
            for name in ("dense", "bm25", "hybrid"):
                for raw in ("", "raw_"):
                    row[f"{raw}{name}_p50_ms"] = percentile(times[raw + name], 50, 3)
                    row[f"{raw}{name}_p95_ms"] = percentile(times[raw + name], 95, 3)
            row["hybrid_with_embed_p50_ms"] = percentile(times["hybrid_with_embed"], 50, 3)
            row["hybrid_with_embed_p95_ms"] = percentile(times["hybrid_with_embed"], 95, 3)
            row["query_embed_p50_ms"] = percentile(times["embed"], 50, 3)
            row["build_chroma_s"] = round(chroma_s, 2)
            row["build_bm25_s"] = round(bm25_s, 2)
            out[label] = row
            echo(
                f"  retrieval {label:>6} ({n} chunks): hybrid p95 {row['hybrid_p95_ms']} ms "
                f"(raw {row['raw_hybrid_p95_ms']}), dense p95 {row['dense_p95_ms']} (raw {row['raw_dense_p95_ms']}), "
                f"bm25 p95 {row['bm25_p95_ms']} (raw {row['raw_bm25_p95_ms']}); built in {chroma_s:.0f}+{bm25_s:.0f} s"
            )
    finally:
        try:
            client.delete_collection(collection)
        except Exception:  # the server may be gone; nothing to clean then
            pass
    return out
