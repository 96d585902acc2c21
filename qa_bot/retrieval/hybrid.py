"""Hybrid retrieval: dense (Chroma) + BM25 (bm25s), fused by weighted reciprocal rank fusion.

RRF is written here (a dozen lines) rather than via llama-index's QueryFusionRetriever, which would
run both retrievers through its async node machinery and drop the per-retriever scores we report.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from qa_bot.retrieval.bm25 import BM25Index
from qa_bot.retrieval.embeddings import Embedder, embed_query
from qa_bot.retrieval.store import ChromaStore
from qa_bot.schema import Chunk, Scored


@dataclass
class Retrieval:
    hits: list[Scored]  # top_k after fusion and cutoff
    candidates: list[Scored] = field(default_factory=list)  # every fused candidate, for the "why" view
    ms: float = 0.0


class HybridRetriever:
    def __init__(
        self, store: ChromaStore, bm25: BM25Index, embedder: Embedder, *, top_k: int = 4, candidates: int = 20,
        dense_weight: float = 1.0, bm25_weight: float = 1.0, rrf_k: int = 60, min_dense_score: float = 0.2,
    ):
        self.store, self.bm25, self.embedder = store, bm25, embedder
        self.top_k, self.candidates = top_k, candidates
        self.dense_weight, self.bm25_weight, self.rrf_k = dense_weight, bm25_weight, rrf_k
        self.min_dense_score = min_dense_score

    def use_bm25(self, bm25: BM25Index) -> None:
        """Swap in the BM25 index rebuilt after the documents changed (one assignment: readers never see half)."""
        self.bm25 = bm25

    def rarest(self, text: str, n: int = 2, share: float = 1.0) -> list[str]:
        """The `n` content stems of `text` in the fewest indexed passages (BM25's document frequencies), none
        in more than `share` of them."""
        return self.bm25.rarest(text, n, share)

    def all_chunks(self) -> Iterable[Chunk]:
        """Every indexed passage, in the store's order."""
        return self.store.all_chunks()

    def dense(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        return self.store.query(embed_query(self.embedder, [query])[0], k)  # the model's query prompt, if any

    def retrieve(self, query: str, top_k: int | None = None) -> Retrieval:
        t0 = time.perf_counter()
        k = top_k or self.top_k
        dense = self.dense(query, self.candidates)
        sparse = self.bm25.search(query, self.candidates)
        fused: dict[str, Scored] = {}
        for rank, (chunk, sim) in enumerate(dense):
            hit = fused.setdefault(chunk.id, Scored(chunk, 0.0))
            hit.dense, hit.dense_rank = sim, rank + 1
            hit.score += self.dense_weight / (self.rrf_k + rank + 1)
        missing = [cid for cid, _ in sparse if cid not in fused]
        fetched = self.store.get(missing)
        for rank, (cid, score) in enumerate(sparse):
            s = fused.get(cid)
            if s is None:
                if cid not in fetched:  # BM25 index older than the store; skip the stale id
                    continue
                s = fused.setdefault(cid, Scored(fetched[cid], 0.0))
            s.bm25, s.bm25_rank = score, rank + 1
            s.score += self.bm25_weight / (self.rrf_k + rank + 1)
        ranked = sorted(fused.values(), key=lambda s: -s.score)
        relevant = [s for s in ranked if (s.dense or 0.0) >= self.min_dense_score or (s.bm25 or 0.0) > 0]
        return Retrieval(relevant[:k], ranked, (time.perf_counter() - t0) * 1000)
