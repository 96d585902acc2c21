"""Independent support: does the passage each answer sentence cites state what the sentence says?

A second scorer that shares nothing with the bot's `CitationChecker` (no embeddings, no stems, no
threshold of its own): a sentence is supported when every number, every capitalised name and at least
`MIN_COVERAGE` of its content words occur in the cited passage, compared as the matcher's normalised
tokens (verbatim up to case, quotes, dashes, possessives, plurals, number words). A sentence without a
marker, or citing a marker with no citation, is unsupported. Stricter than the bot's check by design:
a paraphrase that shares too few words is counted against the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..schema import Citation
from ..text import split_sentences as split_text
from .matcher import tokens

MIN_COVERAGE = 0.5  # share of a sentence's content words that must be in its passage
_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_TRAILING = re.compile(r"([.!?][\"'”’)]*)((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")
_CAP = re.compile(r"\b[A-Z][\w’'.-]*")
# function words, and words that open sentences capitalised without being names
_FUNCTION = frozenset(
    """a an the and or but if then of to in on at by for with from as is are was were be been being it its this
    that these those there here he she they them his her their him we us our you your i me my do doe did have
    ha had not no nor so than too very can could would should will shall may might must what which who whom
    whose when where why how all any both each few more most other some such only own same just also into over
    under about after before between through during out up down off again once said say according while
    although however because since yes mr m mrs dr""".split()
)


@dataclass
class SentenceSupport:
    sentence: str
    supported: bool
    reason: str = ""  # why not, for the report


PassageText = Callable[[Citation], "str | None"]  # the passage a citation points at (None: unknown)


def split_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, its markers); a marker opening a sentence closes the previous one."""
    out: list[tuple[str, list[int]]] = []
    text = _TRAILING.sub(r"\2\1", answer.strip())  # "… clown.” [1] Next" -> "… clown [1].” Next"
    for raw in split_text(text):
        markers = [int(n) for g in _MARKER.findall(raw) for n in re.split(r"\s*[,;]\s*", g)]
        text = _MARKER.sub("", raw).strip()
        if not tokens(text):
            if out and markers:
                out[-1][1].extend(markers)
            continue
        out.append((text, markers))
    return out


def names(sentence: str) -> list[str]:
    """Capitalised words; the sentence's first word only when it is not a function word."""
    out = []
    for m in _CAP.finditer(sentence):
        word = m.group(0).rstrip(".’'")
        toks = tokens(word)
        if not toks or all(t in _FUNCTION for t in toks):
            continue
        out.append(word)
    return out


def check_sentence(sentence: str, passage: str) -> SentenceSupport:
    have = set(tokens(passage))
    toks = tokens(sentence)
    nums = [t for t in toks if t[0].isdigit()]
    if missing := [n for n in nums if n not in have]:
        return SentenceSupport(sentence, False, f"numbers not in the passage: {', '.join(missing)}")
    absent = [n for n in names(sentence) if not set(tokens(n)) <= have]
    if absent:
        return SentenceSupport(sentence, False, f"names not in the passage: {', '.join(absent)}")
    content = [t for t in toks if t not in _FUNCTION and not t[0].isdigit()]
    if content:
        share = sum(t in have for t in content) / len(content)
        if share < MIN_COVERAGE:
            return SentenceSupport(sentence, False, f"{share:.0%} of content words in the passage")
    return SentenceSupport(sentence, True)


def support(answer: str, citations: Sequence[Citation], passage: PassageText) -> list[SentenceSupport]:
    """One verdict per answer sentence (empty for an empty answer)."""
    by_marker = {c.marker: c for c in citations}
    out = []
    for text, markers in split_sentences(answer):
        cited = [by_marker[m] for m in markers if m in by_marker]
        if not cited:
            out.append(SentenceSupport(text, False, "no citation"))
            continue
        texts = [t for t in (passage(c) for c in cited) if t]
        verdicts = [check_sentence(text, t) for t in texts]
        best = next((v for v in verdicts if v.supported), verdicts[0] if verdicts else None)
        out.append(best or SentenceSupport(text, False, "cited passage not found"))
    return out


def support_rate(answer: str, citations: Sequence[Citation], passage: PassageText) -> float | None:
    """Share of supported sentences; None for an empty answer (refusals are not scored)."""
    verdicts = support(answer, citations, passage)
    return sum(v.supported for v in verdicts) / len(verdicts) if verdicts else None
