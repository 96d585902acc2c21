"""The text behind citations, for the UI's source viewer: only indexed documents, found via the manifest.

A client never names a file path: it names an indexed document (file name or doc id), and the path
opened is the manifest's own key, checked against the indexed content hash. Without a match (file
moved, changed or gone) the text is stitched from the indexed chunks, so the viewer never shows
anything that is not in the index.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from qa_bot.errors import BadFileError
from qa_bot.ingest.loaders import load_file
from qa_bot.ingest.manifest import Manifest, SourceEntry
from qa_bot.schema import Chunk

_BLANK = re.compile(r"\n[ \t]*\n\s*")
CONTEXT_CHARS = 600  # how much text around a quote a long paragraph is cut down to


@dataclass
class Location:
    line: int  # 1-based line of the quote's start
    paragraph: int  # 1-based paragraph of the quote's start
    context_start: int  # the surrounding text shown with the quote
    context_end: int
    cut_before: bool = False  # the context was trimmed inside a long paragraph
    cut_after: bool = False


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs separated by blank lines; a document without blank lines has one paragraph per line."""
    spans = _split(text, _BLANK)
    if len(spans) <= 1:
        spans = _split(text, re.compile(r"\n"))
    return spans


def _split(text: str, sep: re.Pattern) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in [*sep.finditer(text), None]:
        end = m.start() if m else len(text)
        s, e = pos, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
        if m:
            pos = m.end()
    return spans


def locate(text: str, start: int, end: int) -> Location:
    """Line and paragraph of a span, and the surrounding paragraph(s), trimmed around the span if long."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    line = text.count("\n", 0, start) + 1
    paras = paragraph_spans(text) or [(0, len(text))]
    first = next((i for i, (_, e) in enumerate(paras) if e > start), len(paras) - 1)
    last = next((i for i, (_, e) in enumerate(paras) if e >= end), len(paras) - 1)
    cs, ce = min(paras[first][0], start), max(paras[max(first, last)][1], end)
    cut_before, cut_after = start - cs > CONTEXT_CHARS, ce - end > CONTEXT_CHARS
    if cut_before:
        cs = _word_edge(text, start - CONTEXT_CHARS, forward=True)
    if cut_after:
        ce = _word_edge(text, end + CONTEXT_CHARS, forward=False)
    return Location(line, first + 1, cs, ce, cut_before, cut_after)


def _word_edge(text: str, pos: int, forward: bool) -> int:
    """Move pos to the nearest whitespace so a trimmed context does not cut a word."""
    step = 1 if forward else -1
    for _ in range(40):
        if pos <= 0 or pos >= len(text) or text[pos].isspace():
            break
        pos += step
    return max(0, min(pos, len(text)))


class SourceLibrary:
    """Indexed documents' text by doc id, read only through the index manifest."""

    def __init__(self, index_dir: Path, store, allowed: list[str], max_bytes: int, cache_size: int = 32):
        self.manifest_path = Path(index_dir) / "manifest.json"
        self.store = store
        self.allowed = allowed
        self.max_bytes = max_bytes
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def entries(self) -> dict[str, SourceEntry]:
        """Manifest key (absolute path) -> entry; read fresh, since uploads change it."""
        m = Manifest.load(self.manifest_path)
        return dict(m.sources) if m else {}

    def find(self, name: str) -> tuple[str, SourceEntry] | None:
        """An indexed document by exact file name or doc id; anything else (paths, '..') finds nothing."""
        for key, e in sorted(self.entries().items()):
            if name and name in (e.source, e.doc_id):
                return key, e
        return None

    def text(self, doc_id: str) -> str | None:
        hit = next(((k, e) for k, e in self.entries().items() if e.doc_id == doc_id), None)
        if hit is None:
            return None
        key, entry = hit
        with self._lock:
            cached = self._cache.get((doc_id, entry.sha256))
            if cached is not None:
                self._cache.move_to_end((doc_id, entry.sha256))
                return cached
        text = self._from_file(Path(key), entry)
        chunks = self.store.doc_chunks(doc_id)  # no vectors: only the text is compared
        if text is None or any(text[c.start : c.end] != c.text for c in chunks):
            # unreadable now, or read differently than when indexed (a loader that has changed since: tables of
            # DOCX files): the indexed text, so citation offsets still point at what was quoted
            text = self._from_chunks(chunks)
        with self._lock:
            self._cache[(doc_id, entry.sha256)] = text
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return text

    def _from_file(self, path: Path, entry: SourceEntry) -> str | None:
        try:
            doc = load_file(path, max_bytes=self.max_bytes, allowed=self.allowed)
        except (BadFileError, OSError, RuntimeError):
            return None
        return doc.text if doc.sha256 == entry.sha256 else None

    def _from_chunks(self, chunks: list[Chunk]) -> str:
        """The document rebuilt from its chunks at their offsets (gaps between chunks are whitespace)."""
        out: list[str] = []
        pos = 0
        for c in sorted(chunks, key=lambda c: c.start):
            if c.start > pos:
                gap = c.start - pos  # same length, so citation offsets still point at the right text
                out.append("\n" * gap if gap >= 2 else " ")
                pos = c.start
            if c.end > pos:
                out.append(c.text[pos - c.start :])
                pos = c.end
        return "".join(out)
