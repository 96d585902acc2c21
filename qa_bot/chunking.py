"""Document -> chunks with exact character spans, using llama-index's SentenceSplitter."""

from __future__ import annotations

import re

from llama_index.core.node_parser import SentenceSplitter

from .schema import Chunk, Document

_WS = re.compile(r"\s+")


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)


def chunk_document(doc: Document, splitter: SentenceSplitter) -> list[Chunk]:
    """Split and locate each piece in the document text.

    The splitter may rejoin sentences with different whitespace, so each piece is found in a
    whitespace-collapsed copy of the text and mapped back to original offsets; the chunk text is
    always the original slice, so quotes taken from it are verbatim.
    """
    norm, index_map = _collapse(doc.text)
    chunks: list[Chunk] = []
    prev: tuple[int, int] | None = None  # (start, end) of the previous piece in `norm`
    for piece in splitter.split_text(doc.text):
        key = _WS.sub(" ", piece).strip()
        if not key:
            continue
        pos = _locate(norm, key, prev)
        if pos < 0:  # should not happen; skip rather than store a span that lies
            continue
        prev = (pos, pos + len(key))
        start = index_map[pos]
        end = index_map[pos + len(key) - 1] + 1
        n = len(chunks)
        chunks.append(
            Chunk(
                id=f"{doc.doc_id}:{n:05d}",
                doc_id=doc.doc_id,
                source=doc.source,
                title=doc.title,
                text=doc.text[start:end],
                start=start,
                end=end,
                position=n,
            )
        )
    return chunks


def _locate(norm: str, key: str, prev: tuple[int, int] | None) -> int:
    """Where `key` starts in `norm`, given the previous piece's span.

    Pieces come in order and overlap, so the next one starts after the previous start and at the
    latest just past its end. Text that repeats itself (boilerplate, lists) has several matches in
    that window; the last one is taken so the spans keep moving forward and cover the document.
    """
    if prev is None:
        return norm.find(key)
    lo, hi = prev[0] + 1, prev[1] + 1
    best = -1
    pos = norm.find(key, lo)
    while 0 <= pos <= hi:
        best = pos
        pos = norm.find(key, pos + 1)
    if best >= 0:
        return best
    if pos >= 0:  # a gap (the splitter dropped something): the next match after the window
        return pos
    return norm.find(key)


def _collapse(text: str) -> tuple[str, list[int]]:
    """Whitespace runs -> one space; returns the new text and, per char, its original offset."""
    out: list[str] = []
    index_map: list[int] = []
    in_ws = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not in_ws:
                out.append(" ")
                index_map.append(i)
            in_ws = True
        else:
            out.append(ch)
            index_map.append(i)
            in_ws = False
    return "".join(out), index_map


def embed_text(chunk: Chunk) -> str:
    """What BM25 indexes: the title, then the passage (titles carry words like a publication's name).

    Dense vectors are made from the passage alone: a title repeated in every chunk pulls all of a
    document's vectors towards it and blurs which passage answers."""
    return f"{chunk.title}\n{chunk.text}"
