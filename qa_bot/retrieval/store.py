"""The vector-store seam over chromadb (embedded PersistentClient or a `chroma run` server).

Raw chromadb rather than llama-index's ChromaVectorStore: ingest needs stable ids, spans in metadata,
deletes by document and embedding reuse, which the node abstraction hides. The plain-LlamaIndex
baseline in `qa-bot bench` uses ChromaVectorStore.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from qa_bot.schema import Chunk


def make_client(index_dir: Path, chroma_url: str = ""):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    cs = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        u = urlparse(chroma_url)
        return chromadb.HttpClient(
            host=u.hostname or "127.0.0.1", port=u.port or 8000, ssl=u.scheme == "https", settings=cs
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=cs)


def _meta(c: Chunk) -> dict:
    return {"doc_id": c.doc_id, "source": c.source, "title": c.title, "start": c.start, "end": c.end, "position": c.position}


def _chunk(cid: str, text: str, m: dict) -> Chunk:
    return Chunk(
        id=cid, doc_id=m["doc_id"], source=m["source"], title=m.get("title", m["source"]), text=text,
        start=int(m["start"]), end=int(m["end"]), position=int(m["position"]),
    )


class ChromaStore:
    """Chunks and their vectors; we always hand Chroma the vectors."""

    def __init__(self, client, name: str = "qa_bot"):
        self.client = client
        self.name = name
        self.col = client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, embedding_function=None)
        try:
            self.batch = max(1, min(2000, client.get_max_batch_size()))
        except Exception:  # older servers lack the call
            self.batch = 1000

    def reset(self) -> None:
        self.client.delete_collection(self.name)
        self.col = self.client.get_or_create_collection(self.name, metadata={"hnsw:space": "cosine"}, embedding_function=None)

    def count(self) -> int:
        return self.col.count()

    def add(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        for i in range(0, len(chunks), self.batch):
            part = chunks[i : i + self.batch]
            self.col.upsert(
                ids=[c.id for c in part],
                embeddings=vectors[i : i + self.batch],
                documents=[c.text for c in part],
                metadatas=[_meta(c) for c in part],
            )

    def delete_doc(self, doc_id: str) -> None:
        self.col.delete(where={"doc_id": doc_id})

    def _doc(self, doc_id: str, include: list[str]) -> tuple[list[Chunk], list[int], dict]:
        """A document's chunks, the order that sorts them by position, and the raw `get` answer."""
        got = self.col.get(where={"doc_id": doc_id}, include=include)
        chunks = [_chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return chunks, sorted(range(len(chunks)), key=lambda k: chunks[k].position), got

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        """A document's chunks in order, without their vectors (the source viewer's check of a file's text)."""
        chunks, order, _ = self._doc(doc_id, ["documents", "metadatas"])
        return [chunks[k] for k in order]

    def doc_vectors(self, doc_id: str) -> tuple[list[Chunk], np.ndarray]:
        chunks, order, got = self._doc(doc_id, ["documents", "metadatas", "embeddings"])
        vecs = np.asarray(got["embeddings"], dtype=np.float32)
        return [chunks[k] for k in order], (vecs[order] if len(order) else vecs)

    def doc_counts(self) -> dict[str, int]:
        """Chunks per document id across the whole collection (used after a crash)."""
        counts: dict[str, int] = {}
        total = self.count()
        for off in range(0, total, 5000):
            got = self.col.get(include=["metadatas"], limit=5000, offset=off)
            for m in got["metadatas"]:
                counts[m["doc_id"]] = counts.get(m["doc_id"], 0) + 1
        return counts

    def all_chunks(self) -> Iterable[Chunk]:
        total = self.count()
        for off in range(0, total, 5000):
            got = self.col.get(include=["documents", "metadatas"], limit=5000, offset=off)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                yield _chunk(i, d, m)

    def get(self, ids: list[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        got = self.col.get(ids=ids, include=["documents", "metadatas"])
        return {i: _chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}

    def openings(self, doc_ids: list[str]) -> dict[str, Chunk]:
        """Each document's first passage (headline, lede), by document id."""
        if not doc_ids:
            return {}
        got = self.col.get(where={"$and": [{"doc_id": {"$in": doc_ids}}, {"position": 0}]},
                           include=["documents", "metadatas"])
        return {m["doc_id"]: _chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}

    def query(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        # No count() first: at 100k chunks it costs ~15 ms, more than the query itself (`qa-bot bench`), and
        # chromadb >= 1.5 returns fewer results when k exceeds the collection, and none when it is empty.
        if k <= 0:
            return []
        res = self.col.query(query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances"])
        out = []
        for i, d, m, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True):
            out.append((_chunk(i, d, m), 1.0 - float(dist)))
        return out
