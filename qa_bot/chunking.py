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
    cursor = 0
    for piece in splitter.split_text(doc.text):
        key = _WS.sub(" ", piece).strip()
        if not key:
            continue
        pos = norm.find(key, cursor)
        if pos < 0:
            pos = norm.find(key)
        if pos < 0:  # should not happen; skip rather than store a span that lies
            continue
        start = index_map[pos]
        end = index_map[pos + len(key) - 1] + 1
        # overlap means the next piece starts before this one ends
        cursor = pos + 1
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
