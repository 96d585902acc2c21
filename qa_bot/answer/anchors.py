"""A question's anchors: the names, titles, quoted strings, years and acronyms it is about.

A passage that mentions none of them cannot answer the question however alike it reads ("Who is the
lead actress in La La Land?" against a passage about Mulan). Anchors are matched like entities (a
surname matches a full name, WSJ matches Wall Street Journal), in a passage, its document's title or
its document's opening. A passage qualifies when it holds every anchor; with three or more, one may
be missing, as a question that sets a scene ("Pretend ... met in Berlin. Where did they meet?")
carries a term no passage has. A question without capitals, quotes or years has no anchors: no check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa_bot.answer.entities import Entity, found, haystack, known_names, names, normalise, quantities
from qa_bot.schema import Chunk

_QUOTED = re.compile(r'"([^"\n]{2,80})"')
_YEAR = re.compile(r"^[12]\d{3}$")


def question_anchors(question: str) -> list[Entity]:
    """The key terms of a question (its first word counts only if capitalised elsewhere too)."""
    norm = normalise(question)
    out = names(question, known_names(question))
    for m in _QUOTED.finditer(norm):
        words = tuple(tuple(p for p in w.lower().split("-") if p) for w in re.findall(r"[^\W_]+(?:['-][^\W_]+)*", m[1]))
        if words:
            out.append(Entity("phrase", m[1].strip(), words, exact=True))
    out += [Entity("number", written, key=value) for value, written in quantities(norm) if _YEAR.match(value)]
    seen: set = set()
    unique = []
    for e in out:
        key = (e.words, e.key)
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return unique


def passage_texts(chunk: Chunk, openings: dict[str, str]) -> tuple[str, ...]:
    """Where a passage's anchors may be: the passage, its document's title and opening."""
    return (chunk.text, chunk.title, openings.get(chunk.doc_id, ""))


def absent(anchors: Sequence[Entity], texts: Sequence[str]) -> list[Entity]:
    """The anchors none of the texts holds."""
    hay = haystack(*texts)
    return [a for a in anchors if not found(a, hay)]


def qualifies(anchors: Sequence[Entity], texts: Sequence[str]) -> bool:
    return len(absent(anchors, texts)) <= (1 if len(anchors) >= 3 else 0)


def unanswerable(anchors: Sequence[Entity], passages: Sequence[Sequence[str]]) -> str:
    """Why no passage can answer ("" when one qualifies): the anchors no passage mentions."""
    if not anchors or any(qualifies(anchors, texts) for texts in passages):
        return ""
    misses = [absent(anchors, texts) for texts in passages]
    nowhere = [a.text for a in anchors if all(a in m for m in misses)]
    if nowhere:
        return f"no passage mentions: {', '.join(nowhere)}"
    return f"no passage mentions all of: {', '.join(a.text for a in anchors)}"
