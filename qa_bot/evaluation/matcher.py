"""The one answer matcher: does an answer state what a `must_include` group names?

Whole words and numbers after Unicode normalisation and case folding: "no" never matches "now", "9"
never matches "2019". Number words equal digits ("five" = "5", "three and a half" = "3½" = "3.5"),
contractions are spelled out ("isn't" = "is not"), possessives and simple plurals are dropped
("sanctions" = "sanction"), dashes and hyphens separate words ("cease-fire" = "cease fire").
Written here because SQuAD's normaliser (substring after stripping punctuation) is what let wrong
answers pass, and no library on PyPI does whole-token matching with number words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

_MARKER = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\-]")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "can not"), (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bcannot\b"), "can not"), (re.compile(r"n't\b"), " not"),
)
_KEEP_S = frozenset("is was has this us bus gas yes its his thus plus news series species".split())


def _fractions(text: str) -> str:
    text = re.sub(r"(\d)\s*½", r"\1.5", text)
    text = re.sub(r"(\d+)\s+1/2\b", r"\1.5", text)
    text = re.sub(r"(\d+) and a half\b", r"\1.5", text)
    return text.replace("½", " 0.5 ")


def _singular(tok: str) -> str:
    """Simple plural and possessive forms to the singular (applied to both sides, so only consistency matters)."""
    if tok.isdigit() or len(tok) <= 3 or tok in _KEEP_S or tok.endswith(("ss", "us", "is")):
        return tok
    if tok.endswith("ies"):
        return tok[:-3] + "y"
    if tok.endswith(("sses", "xes", "ches", "shes")):
        return tok[:-2]
    return tok[:-1] if tok.endswith("s") else tok


def _numbers(tokens: list[str]) -> list[str]:
    """Runs of number words become one number ("twenty five" -> 25, "three and a half" -> 3.5)."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t not in _UNITS and t not in _TENS and not (t in _SCALES and out and out[-1] == "a"):
            out.append(t)
            i += 1
            continue
        if t in _SCALES:  # "a hundred"
            out.pop()
            total, current, j = 0.0, 1.0, i
        else:
            total, current, j = 0.0, 0.0, i
        while j < len(tokens):
            w = tokens[j]
            if w in _UNITS:
                current += _UNITS[w]
            elif w in _TENS:
                current += _TENS[w]
            elif w in _SCALES:
                total += max(current, 1.0) * _SCALES[w]
                current = 0.0
            elif w == "and" and tokens[j + 1 : j + 3] == ["a", "half"]:
                current += 0.5
                j += 3
                continue
            else:
                break
            j += 1
        value = total + current
        out.append(str(int(value)) if value == int(value) else f"{value:g}")
        i = j
    return out


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[str, ...]:
    """Normalised tokens of a text: the unit both sides of a match are compared in."""
    t = _MARKER.sub(" ", text)
    t = unicodedata.normalize("NFKC", _fractions(t)).translate(_QUOTES)
    t = "".join(ch for ch in unicodedata.normalize("NFKD", t) if not unicodedata.combining(ch))
    t = t.lower()
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)  # 1,200 -> 1200
    t = t.replace("%", " percent ")
    for pat, rep in _CONTRACTIONS:
        t = pat.sub(rep, t)
    t = re.sub(r"'s\b|s'(?=\s|$)", "", t)  # possessives
    t = _DASHES.sub(" ", t)
    toks = _TOKEN.findall(t)
    return tuple(_singular(w) for w in _numbers(toks))


def mentions(text: str, phrase: str) -> bool:
    """The phrase occurs in the text as whole normalised tokens, in order and adjacent."""
    needle, hay = tokens(phrase), tokens(text)
    if not needle:
        return False
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1))


def must_include_ok(text: str, groups: Sequence[Sequence[str]]) -> bool:
    """Every group is mentioned; any alternative of a group will do. No groups: nothing to check (True)."""
    return all(any(mentions(text, alt) for alt in group) for group in groups)


def missing_groups(text: str, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The groups the text does not mention (for the report)."""
    return [list(g) for g in groups if not any(mentions(text, alt) for alt in g)]


_YES_NO = re.compile(r"\W*(yes|no)\b", re.IGNORECASE)


def opposite_verdict(answer: str, reference: str) -> bool:
    """The reference opens with "Yes" or "No" and the answer with the other one: "Yes, the Kremlin has indicated
    that a meeting is possible but offering no indication that it is imminent" names the reference's point and
    still tells the reader the wrong thing first."""
    ref, ans = _YES_NO.match(reference), _YES_NO.match(_MARKER.sub("", answer))
    return bool(ref and ans and ref.group(1).lower() != ans.group(1).lower())


def is_correct(answerable: bool, refused: bool, answer: str, must_include: Sequence[Sequence[str]],
               answers: Sequence[str] = (), reference: str = "") -> bool | None:
    """The one correctness rule of `qa-bot eval` and `qa-bot bench`.

    Unanswerable: correct when refused. Answerable: not refused, not opening with the opposite of the
    reference's "Yes"/"No", and every `must_include` group mentioned, else (SQuAD items) some gold answer
    mentioned; None when the item gives nothing to check an answer by.
    """
    if not answerable:
        return refused
    if not (must_include or answers):
        return None
    if refused or opposite_verdict(answer, reference):
        return False
    if must_include:
        return must_include_ok(answer, must_include)
    return any(mentions(answer, a) for a in answers)
