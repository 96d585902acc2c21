"""Document -> chunks with exact character spans, using llama-index's SentenceSplitter."""

from __future__ import annotations

import re

from llama_index.core.node_parser import SentenceSplitter

from qa_bot.schema import Chunk, Document
from qa_bot.text import sentence_spans

_WS = re.compile(r"\s+")
CHUNKER = "sentences-v4"  # recorded in the manifest: an index cut another way is rebuilt, not mixed


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, chunking_tokenizer_fn=sentences)


def sentences(text: str) -> list[str]:
    """The text cut before each sentence, whitespace kept (joined, the pieces are the text), as llama-index's
    own sentence tokenizer cuts it. Ours because that one is nltk's Punkt with no abbreviations: it ended
    8 of the NYT seed's 15 chunks at "Mr.", so quotes and checks saw half a sentence ("..., said Mr.")."""
    starts = [s for s, _ in sentence_spans(text)]
    starts = [0, *starts[1:]] if starts else [0]
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True) if text[a:b]]


def chunk_document(doc: Document, splitter: SentenceSplitter) -> list[Chunk]:
    """Split and locate each piece in the document text.

    The splitter may rejoin sentences with different whitespace, so each piece is found in a
    whitespace-collapsed copy of the text and mapped back to original offsets; the chunk text is
    always the original slice, so quotes taken from it are verbatim.
    """
    norm, index_map = _collapse(doc.text)
    keys = [k for k in (_WS.sub(" ", piece).strip() for piece in splitter.split_text(doc.text)) if k]
    chunks: list[Chunk] = []
    for key, pos in zip(keys, _place(norm, keys), strict=True):
        if pos < 0:  # should not happen; skip rather than store a span that lies
            continue
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


_MAX_CANDIDATES = 64


def _place(norm: str, keys: list[str]) -> list[int]:
    """The start of each piece in `norm` (-1: not found).

    Pieces come in order and overlap: each starts at or after the previous start (the splitter can
    emit a piece that extends the one before) and at the latest just past its end. Where text repeats (boilerplate, lists), a piece matches in several places and the
    first or last match in that window can drift away from where the piece really is, leaving part of
    the document uncovered. So this is a small path search: candidates per piece that keep the rule,
    a placement whose last piece ends where the text ends, and, among several, positions near an even
    spread over the text (at most _MAX_CANDIDATES per piece, so repetitive text stays linear).
    """
    import bisect

    out = [-1] * len(keys)
    found = [k for k in range(len(keys)) if keys[k] in norm]
    if not found:
        return out
    text_end = len(norm.rstrip())
    first = norm.find(keys[found[0]])
    last = max(first, text_end - len(keys[found[-1]]))

    def target(i: int) -> float:
        return first + (last - first) * i / max(1, len(found) - 1)

    layers: list[dict[int, int]] = [{first: -1}]  # per found piece: candidate start -> parent start
    for i in range(1, len(found)):
        key, plen = keys[found[i]], len(keys[found[i - 1]])
        parents = sorted(layers[-1])
        hi = parents[-1] + plen + 1
        cands: dict[int, int] = {}
        pos = norm.find(key, parents[0])
        while 0 <= pos <= hi:
            j = bisect.bisect_right(parents, pos) - 1  # the latest parent starting at or before pos
            if j >= 0 and pos <= parents[j] + plen + 1:
                cands[pos] = parents[j]
            pos = norm.find(key, pos + 1)
        if not cands:  # a gap: the splitter skipped something; continue from the next match
            pos = norm.find(key, parents[0])
            cands = {pos: parents[0]} if pos >= 0 else {norm.find(key): parents[0]}
        t = target(i)
        layers.append(dict(sorted(cands.items(), key=lambda kv: abs(kv[0] - t))[:_MAX_CANDIDATES]))
    end_key = len(keys[found[-1]])
    tail = max(layers[-1], key=lambda p: (p + end_key == text_end, p + end_key, -abs(p - last)))
    for i in range(len(found) - 1, -1, -1):
        out[found[i]] = tail
        tail = layers[i][tail]
    return out


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
