"""index/manifest.json: what built the index and which sources are in it. Written atomically."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from qa_bot.errors import IndexMismatchError


@dataclass
class SourceEntry:
    doc_id: str
    source: str
    title: str
    sha256: str
    chunks: int


@dataclass
class Manifest:
    embedder: str = ""
    dim: int = 0
    chunk_size: int = 0
    chunk_overlap: int = 0
    chunker: str = ""  # how text was cut into sentences (chunking.CHUNKER); "" before it was recorded
    dirty: bool = False  # set while a write is in progress; a crash leaves it set
    bm25_digest: str = ""
    sources: dict[str, SourceEntry] = field(default_factory=dict)  # key: absolute path

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        if not path.is_file():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            raw["sources"] = {k: SourceEntry(**v) for k, v in raw.get("sources", {}).items()}
            return cls(**raw)
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            # damaged by hand or by a foreign tool (our writes are atomic): nothing in it can be
            # trusted, so the index is treated as absent and the next ingest rebuilds it
            return None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(asdict(self), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def check(self, embedder_name: str, chunk_size: int, chunk_overlap: int, chunker: str) -> None:
        """Refuse to mix vectors or chunks made with different settings (the dim is checked on the first
        vectors, see check_dim, so a re-ingest with nothing new never loads the model)."""
        if self.embedder != embedder_name:
            raise IndexMismatchError(
                f"the index was built with embedder '{self.embedder}' (dim {self.dim}), not '{embedder_name}'; "
                "run `qa-bot ingest --rebuild` to rebuild it"
            )
        if (self.chunk_size, self.chunk_overlap) != (chunk_size, chunk_overlap):
            raise IndexMismatchError(
                f"the index was built with chunk_size={self.chunk_size}, chunk_overlap={self.chunk_overlap}, "
                f"not {chunk_size}/{chunk_overlap}; run `qa-bot ingest --rebuild` to rebuild it"
            )
        if self.chunker != chunker:
            raise IndexMismatchError(
                f"the index was cut into chunks by an older chunker ({self.chunker or 'punkt'}, not {chunker}); "
                "run `qa-bot ingest --rebuild` to rebuild it"
            )

    def check_dim(self, dim: int) -> None:
        """Refuse vectors of another width than the index holds (a model swapped under the same name)."""
        if self.dim and dim != self.dim:
            raise IndexMismatchError(
                f"the index holds {self.dim}-dimensional vectors, the embedder '{self.embedder}' now makes {dim}; "
                "run `qa-bot ingest --rebuild` to rebuild it"
            )

    def digest(self) -> str:
        import hashlib

        h = hashlib.sha256()
        for key in sorted(self.sources):
            e = self.sources[key]
            h.update(f"{e.doc_id}:{e.sha256}:{e.chunks};".encode())
        return h.hexdigest()
