"""BM25 over all chunks with bm25s, persisted beside Chroma and loaded once per process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from qa_bot.schema import Chunk
from qa_bot.text import content_stems


def bm25_text(chunk: Chunk) -> str:
    """What BM25 indexes: the title, then the passage (titles carry words like a publication's name).

    Dense vectors are made from the passage alone: a title repeated in every chunk pulls all of a
    document's vectors towards it and blurs which passage answers."""
    return f"{chunk.title}\n{chunk.text}"


class BM25Index:
    def __init__(self, retriever, ids: list[str], digest: str):
        self.retriever = retriever
        self.ids = ids
        self.digest = digest

    @classmethod
    def build(cls, chunks: list[tuple[str, str]], digest: str) -> BM25Index:
        import bm25s

        ids = [cid for cid, _ in chunks]
        retriever = bm25s.BM25()
        if chunks:
            retriever.index([content_stems(text) or ["_"] for _, text in chunks], show_progress=False)
        return cls(retriever, ids, digest)

    @classmethod
    def from_chunks(cls, chunks: Iterable[Chunk], digest: str) -> BM25Index:
        """The index over `chunks` in id order (the order its ids file records)."""
        return cls.build(sorted(((c.id, bm25_text(c)) for c in chunks), key=lambda p: p[0]), digest)

    def save(self, folder: Path) -> None:
        """Write to a sibling folder, then swap it in, so a crash leaves the old or the new index."""
        tmp = folder.with_name(folder.name + ".new")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self.retriever.save(str(tmp))
        (tmp / "ids.json").write_text(json.dumps({"digest": self.digest, "ids": self.ids}))
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        import bm25s

        meta = folder / "ids.json"
        if not meta.is_file():
            return None
        try:
            info = json.loads(meta.read_text())
            retriever = bm25s.BM25.load(str(folder)) if info["ids"] else bm25s.BM25()
        except (OSError, ValueError, KeyError):
            return None
        return cls(retriever, info["ids"], info["digest"])

    def rarest(self, text: str, n: int = 2, share: float = 1.0) -> list[str]:
        """The `n` content stems of `text` found in the fewest passages (stems in none, or in more than `share`
        of them, are left out): what a question is about, as distinct from the words every look-alike passage
        shares with it."""
        if not self.ids:
            return []
        vocab, ptr = self.retriever.vocab_dict, self.retriever.scores["indptr"]  # CSC: a column per stem
        df = {s: int(ptr[vocab[s] + 1] - ptr[vocab[s]]) for s in set(content_stems(text)) if s in vocab}
        return [s for s, d in sorted(df.items(), key=lambda kv: (kv[1], kv[0])) if 0 < d <= share * len(self.ids)][:n]

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        toks = [t for t in content_stems(query) if t in self.retriever.vocab_dict]
        if not toks:
            return []
        scores = np.asarray(self.retriever.get_scores(toks))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
