"""The names, acronyms, numbers and dates a sentence states, and whether a passage holds each of them.

Support by word overlap and similarity passes a sentence whose words are nearly all in the passage but
whose subject is not ("The lead actress in La La Land is Liu Yifei" against a passage about Mulan).
These rules catch the one word that matters; each is simple enough to explain a removal in a line:

- Text is normalised first: curly quotes and dashes straightened, possessives cut ("Putin's" -> Putin),
  initials ("V.") and titles ("Mr.", "President") dropped.
- A name is a run of capitalised words ("Angela Merkel", "La La Land", "Anne-Birgitte Albrectsen").
  Stop words ("The"), months and weekdays (dates, checked on their own) and common acronyms (TV, CEO)
  are not names; a title drops the words before it ("Russian President Vladimir Putin" -> Vladimir Putin).
  A sentence's first word alone is a name only if the context writes it capitalised mid-sentence too:
  without a dictionary that is how "Analysts said..." differs from "Merkel said...".
- A name is in a passage when its words occur there as a phrase (any case). For a name of two or more
  words, all but the first are enough if the passage writes them capitalised: the first word is then
  taken for a first name the passage leaves out ("Mr. Zelensky" for "Volodymyr Zelensky"; "Merkel" is
  still required for "Angela Merkel"). A quoted name ("Pretty Woman") needs the whole phrase. A
  nationality adjective matches its country (Russian ~ Russia, Ukrainian ~ Ukraine).
- An acronym (WSJ, U.N.) is in a passage written as such or as capitalised words with those initials
  (Wall Street Journal, United Nations).
- A number is in a passage when the passage has the same value: 1,200,000 = 1.2 million, five = 5,
  5% = 5 percent; a year is a number. A month or weekday is in a passage that names it (Sept. = September).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from qa_bot.text import ABBREVIATIONS, STOPWORDS

_TRANSLATE = str.maketrans({
    "‘": "'", "’": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "–": " - ", "—": " - ", "―": " - ", "\u00a0": " ",
})
_POSSESSIVE = re.compile(r"(?<=[^\W\d_])'s\b|(?<=s)'(?=[\s.,;:!?)]|$)")
_TOKEN = re.compile(
    r"(?P<acr>\b(?:[A-Z]\.){2,}|\b[A-Z]{2,6}s?\b)"
    r"|(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)"
    r"|(?P<word>[^\W\d_]+(?:['-][^\W\d_]+)*)"
)
TITLES = frozenset(
    "mr mrs ms dr prof president vice prime minister chancellor secretary senator sen rep gov governor gen "
    "king queen prince princess pope sir dame lord lady".split()
)
# Acronyms that name roles or things, not who or what a sentence is about.
COMMON_ACRONYMS = frozenset("TV CEO CFO COO CTO AI OK AM PM GDP ID PR HR VIP FAQ DIY UTC GMT BC AD".split())
MONTHS = ("january february march april may june july august september october november december".split())
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DATES = {**{m: m[:3] for m in MONTHS}, **{m[:3]: m[:3] for m in MONTHS if m != "may"}, "sept": "sep",
          **{d: d[:3] for d in _WEEKDAYS}}
_CONNECTORS = frozenset("of and for the de".split())  # inside "Bank of England": no initial of their own
_DEMONYM = ("an", "ese", "i", "ish")
_SCALES = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_FRACTIONS = {"½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75")}
_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALE_RE = r"(?:\s*(?P<pct>%|percent\b|per cent\b)|\s+(?P<scale>hundred|thousand|million|billion|trillion)\b)?"
_DIGITS = re.compile(r"(?<![\w.,])(?P<int>\d+(?:,\d{3})*)(?P<dec>\.\d+)?(?P<frac>[½¼¾])?" + _SCALE_RE, re.I)
_ORDINALS = {w: n for n, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth".split(), 1)} | {
    t[:-1] + "ieth": 10 * (n + 2) for n, t in enumerate(_TENS)}
_ORDINAL_WORDS = re.compile(rf"\b(?:(?P<tens>{'|'.join(_TENS)})-)?(?P<ord>{'|'.join(_ORDINALS)})\b", re.I)
_WORDS = re.compile(
    rf"\b(?:(?P<tens>{'|'.join(_TENS)})(?:[- ](?P<unit>{'|'.join(_UNITS[1:10])}))?|(?P<small>{'|'.join(_UNITS)}))\b"
    + _SCALE_RE, re.I,
)


@dataclass(frozen=True)
class Entity:
    """One thing a sentence names: kind "name", "phrase", "acronym", "number" or "date"."""

    kind: str
    text: str  # as written, for the reason shown to the user
    words: tuple[tuple[str, ...], ...] = ()  # names and phrases: lower-cased words, each split at hyphens
    key: str = ""  # acronyms: letters; numbers: canonical value; dates: first three letters
    exact: bool = False  # quoted: the whole phrase must occur


@dataclass(frozen=True)
class _Tok:
    kind: str  # "acr", "num" or "word"
    text: str
    gap: str  # the text between the previous token and this one
    initial: bool  # first word of a sentence, a quote or a bracket


@dataclass(frozen=True)
class Haystack:
    """What a passage (with its title) offers to the checks, computed once per text."""

    stream: str  # " word word ... ": lower-cased words for phrase search
    capitalised: frozenset[str]
    acronyms: frozenset[str]  # written acronyms and the initials of capitalised word runs
    numbers: frozenset[str]
    dates: frozenset[str]


def normalise(text: str) -> str:
    """Straight quotes and dashes, accents dropped (Beyoncé = Beyonce); a possessive becomes a comma, which
    ends a name ("Zelensky's White House")."""
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return _POSSESSIVE.sub(",", text.translate(_TRANSLATE))


def _is_initial_or_abbrev(tok: _Tok) -> bool:
    return tok.kind == "word" and ((len(tok.text) == 1 and tok.text.isupper()) or tok.text.lower() in ABBREVIATIONS)


def _tokens(norm: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    for m in _TOKEN.finditer(norm):
        gap = norm[pos : m.start()]
        pos = m.end()
        kind = m.lastgroup or "word"
        text = m.group()
        if kind == "acr" and "." not in text:
            text = text[:-1] if text.endswith("s") and len(text) > 2 else text  # "NGOs"
        prev = out[-1] if out else None
        g = gap[1:] if prev and _is_initial_or_abbrev(prev) and gap.startswith(".") else gap  # "Mr. Putin"
        initial = prev is None or bool(re.search(r"[.!?:\n]", g)) or g.endswith(('"', "'", "(", "["))
        out.append(_Tok(kind, text, gap, initial))
    return out


def _joins(prev: _Tok, tok: _Tok) -> bool:
    """Whether tok continues the run prev is in: only spaces between them, or the dot of an initial."""
    g = tok.gap
    if _is_initial_or_abbrev(prev) and g.startswith("."):
        g = g[1:]
    return not g.strip() and "\n" not in g


def _parts(word: str) -> tuple[str, ...]:
    return tuple(p for p in word.lower().split("-") if p)


def _acronym(tok: _Tok) -> str:
    return tok.text.replace(".", "")


def known_names(*texts: str) -> frozenset[str]:
    """Words some text writes capitalised mid-sentence: a sentence's first word among them is a name."""
    out: set[str] = set()
    for t in texts:
        out |= _mid_capitalised(t)
    return frozenset(out)


@lru_cache(maxsize=512)
def _mid_capitalised(text: str) -> frozenset[str]:
    return frozenset(t.text.lower() for t in _tokens(normalise(text))
                     if t.kind == "word" and not t.initial and t.text[:1].isupper() and len(t.text) > 1)


def entities(sentence: str, known: frozenset[str] = frozenset()) -> list[Entity]:
    """The names, acronyms, numbers and dates a sentence states (rules: see the module docstring)."""
    norm = normalise(sentence)
    toks = _tokens(norm)
    found = [*_names(toks, known), *_acronyms(toks), *_dates(toks)]
    found += [Entity("number", written, key=value) for value, written in quantities(norm)]
    return _unique(found)


def names(text: str, known: frozenset[str] = frozenset()) -> list[Entity]:
    """The names and acronyms only (a question's anchors take its years and quotes separately)."""
    toks = _tokens(normalise(text))
    return _unique([*_names(toks, known), *_acronyms(toks)])


def _unique(items: Iterable[Entity]) -> list[Entity]:
    seen: dict[tuple, Entity] = {}
    for e in items:
        seen.setdefault((e.kind if e.kind in ("number", "date", "acronym") else "name", e.words, e.key), e)
    return list(seen.values())


def _names(toks: list[_Tok], known: frozenset[str]) -> list[Entity]:
    out: list[Entity] = []
    run: list[int] = []
    for i, t in enumerate(toks):
        if run and not _joins(toks[i - 1], t):
            out += _name(toks, run, known)
            run = []
        low = t.text.lower()
        if t.kind != "word" or not t.text[:1].isupper():
            out += _name(toks, run, known)
            run = []
        elif len(t.text) == 1:
            continue  # an initial ("V."): dropped, the run goes on
        elif low in TITLES:
            run = []  # role words before a title ("Russian President") are not the name
        elif low in _DATES or low in STOPWORDS:
            out += _name(toks, run, known)
            run = []
        else:
            run.append(i)
    return out + _name(toks, run, known)


def _name(toks: list[_Tok], run: list[int], known: frozenset[str]) -> list[Entity]:
    if not run:
        return []
    first, last = toks[run[0]], run[-1]
    if len(run) == 1 and first.initial and first.text.lower() not in known:
        return []
    if len(run) == 1 and "-" in first.text and all(p[:1].isupper() for p in first.text.split("-") if p):
        # "Putin-Zelensky meeting", "Trump-Putin summit": two names joined, each checked on its own
        return [Entity("name", p, (_parts(p),)) for p in first.text.split("-") if p and not _demonym_word(p)]
    nxt = toks[last + 1] if last + 1 < len(toks) else None
    if len(run) == 1 and _demonym_word(first.text) and nxt is not None and nxt.text[:1].islower():
        return []  # an adjective of nationality ("Russian rhetoric", "European leaders"), not who is named
    after = toks[last + 1].gap if last + 1 < len(toks) else ""
    quoted = first.gap.endswith(('"', "'")) and after.lstrip(".,;:!?").startswith(('"', "'"))
    return [Entity("name", " ".join(toks[j].text for j in run), tuple(_parts(toks[j].text) for j in run),
                   exact=quoted)]


_DEMONYMS = frozenset("american german french british dutch greek thai arab swiss irish".split())


def _demonym_word(word: str) -> bool:
    low = word.lower()
    return low in _DEMONYMS or low.endswith(("ian", "ean", "ese", "ish"))


def _acronyms(toks: list[_Tok]) -> list[Entity]:
    out = []
    for t in toks:
        key = _acronym(t) if t.kind == "acr" else ""
        if key and key not in COMMON_ACRONYMS and key.lower() not in STOPWORDS:
            out.append(Entity("acronym", t.text, key=key))
    return out


def _dates(toks: list[_Tok]) -> list[Entity]:
    out = []
    for t in toks:
        low = t.text.lower()
        # "May I..." at a sentence start is a verb; mid-sentence "May" is the month
        if t.kind == "word" and t.text[:1].isupper() and low in _DATES and not (t.initial and low in STOPWORDS):
            out.append(Entity("date", t.text, key=_DATES[low]))
    return out


def quantities(norm: str, passage: bool = False) -> list[tuple[str, str]]:
    """(canonical value, as written) of each number: 1,200,000 and 1.2 million are both "1200000".

    A passage also offers each number without its scale or percent sign ("2.9 million" offers 2.9), "one"
    and ordinal words ("tenth"); an answer's bare "one" is not counted ("one of the leaders").
    """
    out: list[tuple[str, str]] = []
    for m in _DIGITS.finditer(norm):
        value = Decimal(m["int"].replace(",", "") + (m["dec"] or "")) + _FRACTIONS.get(m["frac"] or "", Decimal(0))
        out += _values(value, m, passage)
    for m in _WORDS.finditer(norm):
        small = (m["small"] or "").lower()
        if not passage and not m["scale"] and not m["pct"] and (
                small in ("one", "two") or re.match(r"-(?:way|on-|sided|party)", norm[m.end():])):
            continue  # "one of", "the two leaders", "a two-way meeting": not a figure an answer states
        if small:
            value = Decimal(_UNITS.index(small))
        else:
            value = Decimal(10 * (_TENS.index(m["tens"].lower()) + 2) + (_UNITS.index(m["unit"].lower()) if m["unit"] else 0))
        out += _values(value, m, passage)
    if passage:  # "tenth" backs an answer's "10th"; an answer's "first" is not taken for a number
        for m in _ORDINAL_WORDS.finditer(norm):
            n = _ORDINALS[m["ord"].lower()] + (10 * (_TENS.index(m["tens"].lower()) + 2) if m["tens"] else 0)
            out.append((str(n), m.group()))
    return out


def _values(value: Decimal, m: re.Match, passage: bool) -> list[tuple[str, str]]:
    written = m.group().strip()
    raw = _canonical(value)
    if m["pct"]:
        return [(raw + "%", written), *([(raw, written)] if passage else [])]
    if m["scale"]:
        return [(_canonical(value * _SCALES[m["scale"].lower()]), written), *([(raw, written)] if passage else [])]
    return [(raw, written)]


def _canonical(d: Decimal) -> str:
    return format(d.normalize(), "f")


@lru_cache(maxsize=512)
def haystack(*texts: str) -> Haystack:
    """A passage (and its title) prepared for `missing`; cached, as every answer sentence asks again."""
    words: list[str] = []
    caps: set[str] = set()
    acrs: set[str] = set()
    nums: set[str] = set()
    dates: set[str] = set()
    for text in texts:
        norm = normalise(text)
        toks = _tokens(norm)
        for t in toks:
            if t.kind == "acr":
                acrs.add(_acronym(t))
                words.append(_acronym(t).lower())
            elif t.kind == "num":
                words.append(t.text.replace(",", ""))
            elif not (len(t.text) == 1 and t.text.isupper()):  # initials dropped: "Vladimir V. Putin"
                words.extend(_parts(t.text))
                if t.text[:1].isupper():
                    caps.update(_parts(t.text))
                if t.text.lower() in _DATES:
                    dates.add(_DATES[t.text.lower()])
        words.append("|")  # no phrase across two texts
        acrs |= _initialisms(toks)
        nums |= {v for v, _ in quantities(norm, passage=True)}
    return Haystack(" " + " ".join(words) + " ", frozenset(caps), frozenset(acrs), frozenset(nums), frozenset(dates))


def _initialisms(toks: list[_Tok]) -> set[str]:
    """Initials of every stretch of capitalised words: "The Wall Street Journal" offers WSJ (and TWSJ...)."""
    out: set[str] = set()
    letters = ""
    for i, t in enumerate(toks):
        capital = t.kind == "word" and t.text[:1].isupper() and len(t.text) > 1
        joined = i > 0 and _joins(toks[i - 1], t)
        if capital and (joined or not letters):
            letters += t.text[0].upper()
        elif joined and t.kind == "word" and t.text in _CONNECTORS and letters:
            continue
        else:
            out |= _substrings(letters)
            letters = t.text[0].upper() if capital else ""
    return out | _substrings(letters)


def _substrings(s: str) -> set[str]:
    return {s[a:b] for a in range(len(s)) for b in range(a + 2, min(len(s), a + 8) + 1)}


def _phrase(hay: Haystack, words: list[str]) -> bool:
    return f" {' '.join(words)} " in hay.stream


def _demonym(word: str, hay: Haystack) -> bool:
    """Russian ~ Russia, Ukrainian ~ Ukraine, Chinese ~ China, Israeli ~ Israel (either way round)."""
    for other in hay.capitalised:
        long, short = (word, other) if len(word) >= len(other) else (other, word)
        if (long != short and long.endswith(_DEMONYM) and len(short) >= 4 and long.startswith(short[:-1])
                and len(long) - len(short) <= 3):
            return True
    return False


def found(e: Entity, hay: Haystack) -> bool:
    """Whether the passage holds the entity (rules: see the module docstring)."""
    if e.kind == "number":
        return e.key in hay.numbers
    if e.kind == "date":
        return e.key in hay.dates
    if e.kind == "acronym":
        return e.key in hay.acronyms or (len(e.key) >= 3 and e.key.lower() in hay.capitalised)  # "Nato"
    flat = [p for w in e.words for p in w]
    if not flat or _phrase(hay, flat):
        return True
    if len(flat) == 1:
        return _demonym(flat[0], hay)
    if e.exact or len(e.words) < 2:
        return False
    rest = [p for w in e.words[1:] for p in w]
    return rest[0] in hay.capitalised and _phrase(hay, rest)


def missing(items: Iterable[Entity], hay: Haystack) -> list[Entity]:
    return [e for e in items if not found(e, hay)]


_LABELS = {"name": "names", "phrase": "names", "acronym": "names", "number": "numbers", "date": "dates"}


def describe(items: list[Entity], where: str) -> str:
    """"names not in the cited passage: Angela Merkel; numbers not in the cited passage: 2021"."""
    groups: dict[str, list[str]] = {}
    for e in items:
        groups.setdefault(_LABELS[e.kind], []).append(e.text)
    return "; ".join(f"{label} not in {where}: {', '.join(texts)}" for label, texts in groups.items())
