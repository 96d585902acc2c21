"""Independent support: does the passage each answer sentence cites state what the sentence says?

A second scorer that shares nothing with the bot's `CitationChecker` (no embeddings, no stems, no
threshold of its own): a sentence is supported when every number, every capitalised name and at least
`MIN_COVERAGE` of its content words occur in the cited passage, compared as the matcher's normalised
tokens (verbatim up to case, quotes, dashes, possessives, plurals, number words). The passage is what the
citation points at with its document's title and the passages next to it (what a reader sees around
the quote). A sentence without a marker, or citing a marker with no citation, is unsupported. Stricter than the bot's check by design:
a paraphrase that shares too few words is counted against the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa_bot.evaluation.matcher import tokens
from qa_bot.schema import Citation
from qa_bot.text import split_sentences as split_text

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


_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+(?:[A-Z]\.\s+)?[A-Z][\w’'.-]*)*")
_TITLES = frozenset("president mr mrs ms dr prime minister foreign former sen gov gen".split())
_GENERIC = frozenset(["tv"])  # acronyms of things, not of who or what a sentence is about
_DIGITS = re.compile(r"\d[\d,]*(?:\.\d+)?½?")


def _demonym(word: str) -> bool:
    w = word.lower()
    return w.endswith(("ian", "ean", "ese", "ish")) or w in {"american", "french", "british", "german"}


def names(sentence: str) -> list[tuple[str, list[str]]]:
    """Runs of capitalised words as token lists ("Vladimir V. Putin" -> [vladimir, v, putin]), without
    function words, titles, generic acronyms and nationality adjectives ("Russian officials")."""
    out = []
    for m in _RUN.finditer(sentence):
        words = [w.rstrip(".’'") for w in m.group(0).split()]
        after = sentence[m.end():].lstrip()[:1]
        toks = [t for w in words for t in tokens(w)
                if t not in _FUNCTION and t not in _TITLES and t not in _GENERIC and len(t) > 1]
        if len(words) == 1 and _demonym(words[0]) and after.islower():
            continue
        if toks:
            out.append((" ".join(words), toks))
    return out


def _name_found(toks: list[str], have: set[str], initials: set[str]) -> bool:
    """A name is in the passage when its last word is (a surname, the last word of a place); an acronym
    also when the passage writes out its words ("WSJ" for "The Wall Street Journal")."""
    return toks[-1] in have or (len(toks) == 1 and toks[0] in initials)


def _initials(passage: str) -> set[str]:
    """Initials of every run of capitalised words in the passage, and of each run's tail."""
    out = set()
    for m in _RUN.finditer(passage):
        letters = "".join(w[0] for w in m.group(0).split() if w[:1].isupper()).lower()
        out |= {letters[i:] for i in range(len(letters) - 1)}
    return out


def check_sentence(sentence: str, passage: str) -> SentenceSupport:
    have = set(tokens(passage))
    nums = [t for n in _DIGITS.findall(sentence) for t in tokens(n)]
    if missing := [n for n in nums if n not in have]:
        return SentenceSupport(sentence, False, f"numbers not in the passage: {', '.join(missing)}")
    initials = _initials(passage)
    absent = [text for text, toks in names(sentence) if not _name_found(toks, have, initials)]
    if absent:
        return SentenceSupport(sentence, False, f"names not in the passage: {', '.join(absent)}")
    toks = tokens(sentence)
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
