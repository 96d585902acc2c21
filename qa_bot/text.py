"""Shared text helpers: word tokens, stop words, stems, sentence spans."""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
# Sentence ends: . ! ? (optionally followed by a closing quote/bracket) then whitespace; or a blank line.
_SENT_END = re.compile(r"(?<=[.!?])([\"'”’)\]]*)\s+|\n\s*\n|\n(?=\S)")

STOPWORDS = frozenset(
    """a an the and or but if then else of to in on at by for with from as is are was were be been being
    it its this that these those there here he she they them his her their him we us our you your i me my
    do does did done have has had having not no nor so than too very can could would should will shall may
    might must what which who whom whose when where why how all any both each few more most other some such
    only own same just also into over under about after before between through during out up down off again
    further once s t don now said says say according mr ms mrs""".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def content_stems(text: str) -> list[str]:
    """Lower-cased, stop words removed, Snowball-stemmed: the unit of lexical overlap."""
    ws = [w for w in words(text) if w not in STOPWORDS]
    return _stemmer().stemWords(ws) if ws else []

def coverage(stems: set[str], text: str) -> float:
    """Share of `stems` (content-word stems) that `text` contains: the lexical half of focus and support."""
    return len(stems & set(content_stems(text))) / max(1, len(stems))


def numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def sentence_spans(text: str, base: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence in text, offsets shifted by base, whitespace trimmed."""
    return [(base + s, base + e) for s, e in _sentence_spans(text)]


@lru_cache(maxsize=4096)  # one answer's checks split the same few passages many times over
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans = []
    pos = 0
    for m in _SENT_END.finditer(text):
        if _is_abbreviation(text, m.start()) or _wrapped(text, m):
            continue
        spans.append((pos, m.start() + len(m.group(1) or "")))  # closing quotes stay with their sentence
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for s, e in spans:
        seg = text[s:e]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        s2, e2 = s + lead, e - trail
        if e2 - s2 >= 2:
            out.append((s2, e2))
    return tuple(out)


ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr prof gen col lt sgt rep sen gov pres vs etc inc ltd co corp jan feb mar apr jun jul aug "
    "sep sept oct nov dec u.s u.k u.n e.g i.e a.m p.m".split()
)


_WRAP_MIN = 60  # a line this long that stops without punctuation was wrapped (a heading or list item is shorter)
TERMINAL = tuple(".!?:;\"'”’)]")  # what ends a sentence or a line that is one
# a heading, table row, block quote or bulleted item starts a line (not numbers: "O\n2" is a subscript in PDF text)
_BLOCK = re.compile(r"\s*(?:[#|>]|[-*+•]\s)")


_FRAGMENT_WORDS = 3  # a paragraph that opens with a "sentence" this short after an unfinished one continues it


def _wrapped(text: str, m: re.Match) -> bool:
    """True when a line break continues the sentence. A single one: a hard-wrapped line (PDF text, a text file
    wrapped at 72 columns) that ends without punctuation and is long, or is followed by a lower-case word. A blank
    line: only after a long line without punctuation, before a lower-case word or a fragment ("...a senior fellow
    at the Carnegie Russia" / "Eurasia Center." in the WSJ seed); a photo caption's credit line stays its own."""
    if m.end() >= len(text) or m.group(0).count("\n") == 0:
        return False
    line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()].rstrip()
    if not line or line.endswith(TERMINAL) or _BLOCK.match(line) or _BLOCK.match(text, m.end()):
        return False  # a heading, table row or list item is a line of its own, however long
    if m.group(0) == "\n":
        return len(line) >= _WRAP_MIN or text[m.end()].islower()
    if len(line) < _WRAP_MIN:
        return False
    if text[m.end()].islower():
        return True
    return _opens_with_fragment(text[m.end() : m.end() + 200].split("\n", 1)[0])


def _opens_with_fragment(line: str) -> bool:
    """True when a line opens with a sentence of at most _FRAGMENT_WORDS words and more text follows it."""
    for end in _SENT_END.finditer(line):
        if not _is_abbreviation(line, end.start()):
            return len(words(line[: end.start()])) <= _FRAGMENT_WORDS and bool(line[end.end() :].strip())
    return False


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the '.' ending at `end` closes an abbreviation or an initial ("Mr.", "St.", "V.")."""
    if end == 0 or text[end - 1] != ".":
        return False
    start = end - 1
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start : end - 1]
    if len(word) == 1 and word.isupper():
        return True
    return word.lower() in ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]
