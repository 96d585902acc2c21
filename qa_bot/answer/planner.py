"""Whole documents for the model to read, and the planner that decides when it reads them.

When the whole corpus fits `context_tokens`, the model reads every document whole, in a fixed order,
after one system prompt: every question shares that prefix, so its KV state is computed once per
corpus and model (read ahead like the passages, `qa_bot/kvcache.py`) and a question only reads itself.
When it does not, but the best-matching document does (with the passages from other documents beside
it), the model reads that document whole from a prefix of its own (one KV snapshot per document),
then the passages from the other documents. Otherwise the model reads retrieved passages. Documents are loaded with the ingest loader from the
paths in the index manifest, and used only when their sha256 still matches it, so every quote is a
verbatim slice of the text that was indexed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qa_bot.errors import BadFileError
from qa_bot.ingest.loaders import load_file
from qa_bot.ingest.manifest import Manifest
from qa_bot.schema import Chunk, Scored

# A document this short is a passage or two: passage mode already reads it ahead as one, so a prefix of
# its own would only spend the read-ahead budget (SQuAD's 411 paragraphs are one file each).
MIN_DOCUMENT_TOKENS = 400
CHARS_PER_TOKEN = 3.5  # English prose with Qwen's tokenizer is 3.6-4.2 characters a token; erring long


@dataclass(frozen=True)
class Plan:
    """What the model reads for one question. `mode`: "documents" (every document whole), "document" (one
    document whole, then `passages`: the retrieved passages of other documents) or "passages" (retrieved)."""

    mode: str
    documents: tuple[Chunk, ...] = ()
    why: str = ""
    pending: bool = False  # documents fit, but their prefix has not been read ahead yet
    passages: tuple[Scored, ...] = ()  # "document" mode: read after the document, in retrieval rank order


class DocumentLibrary:
    """The indexed documents, whole, as one chunk each (position -1), reloaded when the manifest changes."""

    def __init__(self, index_dir: Path, max_file_mb: float, allowed: list[str]):
        self.manifest_path = Path(index_dir) / "manifest.json"
        self.max_bytes, self.allowed = int(max_file_mb * 1e6), allowed
        self._key: str | None = None
        self._docs: tuple[Chunk, ...] | None = None

    def documents(self) -> tuple[Chunk, ...] | None:
        """Every indexed document whole, in a stable order; None if one cannot be read as indexed."""
        m = Manifest.load(self.manifest_path)
        if m is None or not m.sources or m.dirty:
            return None
        key = m.digest()
        if key != self._key:
            self._key, self._docs = key, self._load(m)
        return self._docs

    def _load(self, m: Manifest) -> tuple[Chunk, ...] | None:
        docs = []
        for path, e in sorted(m.sources.items(), key=lambda kv: (kv[1].source, kv[0])):
            if e.chunks == 0:
                continue
            try:
                doc = load_file(Path(path), max_bytes=self.max_bytes, allowed=self.allowed)
            except BadFileError:
                return None  # moved or unreadable since ingest: passages still work
            if doc.sha256 != e.sha256:
                return None  # changed since ingest: quotes must come from the indexed text
            docs.append(Chunk(f"{e.doc_id}:doc", e.doc_id, e.source, e.title, doc.text, 0, len(doc.text), -1))
        return tuple(docs)


def estimate_tokens(docs: tuple[Chunk, ...]) -> int:
    return int(sum(len(d.text) + len(d.title) + 8 for d in docs) / CHARS_PER_TOKEN)


def passage_tokens(passages: Sequence[Scored]) -> int:
    return estimate_tokens(tuple(s.chunk for s in passages))


def plan(library: DocumentLibrary | None, context_tokens: int, hits: Sequence[Scored] = ()) -> Plan:
    """Whole documents when every one of them fits the budget together; else, given the retrieved `hits`,
    the best-matching document whole when it fits with the passages of the others; else passages."""
    if library is None or context_tokens <= 0:
        return Plan("passages", why="document mode off")
    docs = library.documents()
    if not docs:
        return Plan("passages", why="documents not readable as indexed")
    need = estimate_tokens(docs)
    if need <= context_tokens:
        return Plan("documents", docs, why=f"{len(docs)} documents, about {need} tokens")
    over = f"corpus of about {need} tokens exceeds context_tokens={context_tokens}"
    if not hits:
        return Plan("passages", why=over)
    # the top passage's document: fusion already ranks dense and BM25 together, while counts of 4 hits tie often
    doc = next((d for d in docs if d.doc_id == hits[0].chunk.doc_id), None)
    if doc is None or estimate_tokens((doc,)) < MIN_DOCUMENT_TOKENS:
        return Plan("passages", why=over)
    others = tuple(s for s in hits if s.chunk.doc_id != doc.doc_id)
    size = estimate_tokens((doc,)) + passage_tokens(others)
    if size > context_tokens:
        return Plan("passages", why=f"{over}; its best document with the other passages is about {size}")
    return Plan("document", (doc,), why=f"{over}; {doc.source} whole (about {size - passage_tokens(others)} "
                f"tokens) and {len(others)} passages of other documents", passages=others)


def documents_that_fit(docs: Sequence[Chunk], context_tokens: int, room: int) -> list[Chunk]:
    """The documents whose own prefix is worth reading ahead: each fits `context_tokens` with `room` left for
    the passages of other documents; largest first (a document is the best match about in proportion to its
    passages, so per MB of snapshot the largest save the most tokens at question time)."""
    fit = [d for d in docs if MIN_DOCUMENT_TOKENS <= estimate_tokens((d,)) <= context_tokens - room]
    return sorted(fit, key=lambda d: -len(d.text))
