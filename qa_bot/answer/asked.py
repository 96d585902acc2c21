"""The answer-type check: an answer must give the kind of thing its question asks for.

A sentence the sources back word for word can still leave the question open: "When did Putin say he was
ready to meet Zelensky only as a final stage?" answered with the conditions he set and no date; "Which
other leaders attended the 2019 Paris meeting?" answered with the two leaders the question names.
Support passes both, since every word is in the source. So when a question asks when, how many or how
much, what share, who, or which person, group or place, an answer is kept only if one of its sentences names a
thing of that kind the question does not already name: a date, year or time word; a number or amount word; a
percentage or a share word ("a third"); a name, or a word for people or a body ("European leaders", "state
television"), which the source sentence its quote shows must name too (a name one sentence away answers nothing:
"Russia's chosen path has influenced Putin" cannot rest on "... it's had an influence on Trump"). A leading
attribution does not
count ("The Wall Street Journal says that ..." names who says, not who is asked about). "In what month" wants a
month ("in the spring of 1349" gives none), and a question about what did not happen ("What did the EC not focus
on?") an answer with a negation: without one it says what did happen. Rules, no model:
no NER or QA model ships inside a PyPI package here (`entities.py` finds names by capitals).
"""

from __future__ import annotations

import re
from functools import lru_cache

from qa_bot.answer import entities as entity_rules
from qa_bot.answer.polarity import has_negation
from qa_bot.text import words

# what "which/what ..." asks about when it asks for a person or a body ("which analysts", "what newspaper")
_ASKED_ABOUT = ("leader analyst official people person figure president minister lawmaker politician journalist "
                "reporter host diplomat expert country nation city newspaper outlet agency organization organisation "
                "company government party").split()
_PEOPLE = "|".join(w[:-1] + "(?:y|ies)" if w.endswith("y") else w + "s?" for w in _ASKED_ABOUT)
_AUX = r"(?:did|does|do|is|was|were|are|will|would|can|could|has|have|had|should|must|might)"
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # "In what month in 1349 did ...?" asks for a month: "in the spring of 1349" gives a time, not the month
    ("month", re.compile(r"^\s*(?:in |during |by |until |since )?(?:what|which) month\b", re.I)),
    # "When the Rhine took a right turn, what did it create?" asks what: "when" then a verb asks when
    ("when", re.compile(rf"^\s*(?:when\s+{_AUX}\b|(?:in |on |by |since |until )?(?:what|which) (?:year|date|month|day|"
                        r"decade|century)\b|since when\b|how long ago\b)", re.I)),
    # "How many years passed between ...?" asks for a span of time: a calendar year ("2023") gives none
    ("span", re.compile(r"^\s*how many (?:years|months|weeks|days|decades|centuries|hours)\b", re.I)),
    # "What was the target percentage of households ...?" asks for a share: a count ("3.5 million") gives none
    ("share", re.compile(rf"^\s*(?:what|which)\s+(?:{_AUX}\s+)?(?:the\s+)?(?:[\w-]+\s+)?(?:percentage|percent|proportion|"
                         r"share|fraction)\s+of\b|^\s*how many (?:percent|per cent)\b", re.I)),
    ("amount", re.compile(r"^\s*how (?:many|much)\b", re.I)),
    # "Who is Yuri Ushakov?" asks for a description, not a name
    ("who", re.compile(r"^\s*(?:who|whom|whose)\b(?!\s+(?:is|was|are|were)\s+(?:[A-Z][\w.'-]*\s*)+\??\s*$)", re.I)),
    ("which", re.compile(rf"^\s*(?:which|what)\s+(?:other\s+|(?-i:[A-Z])[\w-]*\s+)?(?:{_PEOPLE})\b", re.I)),
    ("where", re.compile(r"^\s*where\b", re.I)),
)
# a "when" answer without a date: these name a time; "during the pandemic", "after the war" do not count
_TIME_WORDS = frozenset(
    """today yesterday tomorrow tonight morning afternoon evening night week weeks weekend month months year years
    decade decades century centuries spring summer autumn fall winter ago era""".split()
)
_MONTH = re.compile(r"\b(?:" + "|".join(m.title() for m in entity_rules.MONTHS) + r")\b")  # "may" is no month
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")
# what answers "what percentage of ...": a percentage or a share word ("a third", "the majority")
_SHARE = re.compile(r"\d\s*%|\b(?:per ?cent|percent|half|halves|quarters?|thirds?|fifths?|tenths?|majority|"
                    r"minority)\b", re.I)
_AMOUNT_WORDS = frozenset(
    "one once twice single several few dozen dozens hundreds thousands millions billions many numerous multiple none zero "
    "half".split()
)
# "According to the NYT, ...", "The Wall Street Journal (article) says that ...": a document or its publisher,
# not a person ("Putin said ..." answers "who said"; "The courts of member states can ..." is no attribution)
# what a document or its publisher is called: the last word of one ("the NYT article", "The Wall Street Journal")
DOCUMENT_WORDS = ("article", "document", "report", "source", "piece", "passage", "text")
PUBLISHERS = ("Times", "Journal", "Post", "News", "Press", "Reuters", "Guardian", "Herald", "Tribune", "Gazette",
              "Magazine", "BBC", "CNN", "NYT", "WSJ", "AP", "AFP")
_ATTRIBUTION = re.compile(
    r"^\s*(?:according to [^,]{1,80},\s*|(?:the |both |each )?(?:(?-i:[A-Z])[\w.'-]*\s+){0,5}?"
    rf"(?:(?:{'|'.join(DOCUMENT_WORDS)})s?|(?-i:{'|'.join(PUBLISHERS)}))\s+(?:says|said|states|stated|mentions|"
    r"mentioned|reports|reported|notes|noted|writes|wrote|explains|explained|adds|added)\s+(?:that\s+)?)", re.I)

# who answers a "who" question without a name: "Russian state television", "his wife", "European leaders"
_WHO_WORDS = frozenset(_ASKED_ABOUT) | frozenset(
    """television tv media press army military troops soldier force forces police court parliament state administration
    aide adviser advisor spokesman spokeswoman spokesperson envoy negotiator delegation ally allies friend wife
    husband son daughter father mother brother sister family king queen emperor prince princess pope bishop priest
    worker employee member citizen resident student teacher scientist doctor author writer critic commentator
    observer propagandist poor rich wealthy elderly young youth child children man men woman women individual
    human public population household""".split()
)
_WANTS = {"when": ("date", "number"), "amount": ("number",), "span": ("number",), "who": ("name", "acronym", "phrase"),
          "which": ("name", "acronym", "phrase"), "where": ("name", "acronym", "phrase")}
_SHOWN_KINDS = frozenset({"who", "which"})  # a date or number may come a sentence earlier ("In 2023, ... He said")
_DETAIL = {"month": "a month", "when": "a date or time", "amount": "a number or amount", "span": "a number or amount",
           "share": "a percentage or share", "who": "a name", "which": "a name", "where": "a place"}


# "When rich countries trade with poor countries, whose wages increase?", "In 1939, how many people...":
# the question word follows a leading clause
# ("When did Putin, who ..., say?" is no such clause: a question word, or "when" with a verb, opens it)
_LEADING_CLAUSE = re.compile(
    rf"^(?!\s*(?:who|whom|whose|where|which|what|how|why)\b|\s*when\s+{_AUX}\b)[^?]*?,\s*"
    r"(?=(?:who|whom|whose|when|where|which|what|how)\b)", re.I)


def asks(question: str) -> str | None:
    """What kind of thing the question asks for ("when", "span", "share", "amount", "who", "which", "where"), or
    None."""
    question = _LEADING_CLAUSE.sub("", question, count=1)
    return next((kind for kind, rx in _KINDS if rx.search(question)), None)


def _who_words(sentence: str) -> set[str]:
    """Words for people or bodies, singular, not used as a title before a name ("President Putin")."""
    toks = re.findall(r"[^\W_]+", sentence)
    out = set()
    for t, nxt in zip(toks, [*toks[1:], ""], strict=True):
        low = t.lower()
        one = low[:-1] if low.endswith("s") and low[:-1] in _WHO_WORDS else low
        if one in _WHO_WORDS and not nxt[:1].isupper():
            out.add(one)
    return out


@lru_cache(maxsize=64)
def _named(question: str) -> tuple[entity_rules.Haystack, frozenset[str], frozenset[str]]:
    """What a question already names, computed once for every sentence of its answer."""
    return entity_rules.haystack(question), frozenset(words(question)), frozenset(_who_words(question))


def without_attribution(sentence: str) -> str:
    """The sentence past a leading attribution to a document or its publisher ("According to the NYT, ...")."""
    return _ATTRIBUTION.sub("", sentence, count=1)


def gives(kind: str, sentence: str, question: str, known: frozenset[str], quote: str | None = None) -> bool:
    """Does the sentence, past a leading attribution, name a thing of `kind` that the question does not (and that
    `quote`, the source sentence it rests on, names too)?"""
    asked, said, people = _named(question)
    sentence = without_attribution(sentence)
    shown = quote if kind in _SHOWN_KINDS else None
    hay = entity_rules.haystack(shown) if shown is not None else None
    if kind == "month":
        return any(m.group(0).lower() not in said for m in _MONTH.finditer(sentence))
    if kind == "share":  # a percentage is a number, but most numbers are no share
        return any(m.group(0).lower() not in said for m in _SHARE.finditer(sentence))
    if any(e.kind in _WANTS[kind] and not entity_rules.found(e, asked) and not (kind == "span" and _YEAR.match(e.key))
           and (hay is None or entity_rules.found(e, hay))
           for e in entity_rules.entities(sentence, known)):
        return True
    new = {w for w in words(sentence) if w not in said}
    if kind == "when":
        return bool(new & _TIME_WORDS)
    if kind in ("amount", "span"):
        return bool(new & _AMOUNT_WORDS)
    if kind not in ("who", "which"):
        return False
    named = _who_words(sentence) - people
    return bool(named & _who_words(shown) if shown is not None else named)


# "What did the European Community not originally focus on?" asks what did not happen: an answer without a negation
# ("It originally focused on free movement of workers") says what did. The question's own verb is negated ("did
# the EC not focus", "didn't", "never"), not a word of its object ("the goal of not using punishment") nor of a
# clause ("... assuming p is a prime that is not 2 or 5?"); "why ... not" asks for a reason, which needs none
_NEGATED = re.compile(rf"^\s*(?:what|which|who|whom)\b(?:(?:\s+[\w'’/-]+){{0,4}}?\s+{_AUX}(?:\s+[\w'’/-]+){{0,4}}?\s+not\b|"
                      r"[^?]*?n't\b|[^?]*?\bnever\b)", re.I)


def _affirms(question: str, sentences: list[str]) -> bool:
    """The question asks what (or who) did not ..., and no sentence of the answer holds a negation."""
    return bool(_NEGATED.search(_LEADING_CLAUSE.sub("", question, count=1))) and not any(
        has_negation(s) for s in sentences)


def unanswered(question: str, sentences: list[str], known: frozenset[str], asked: str = "",
               quotes: list[str] | None = None) -> str:
    """Why the sentences leave the question open ("" when one gives what it asks for, or it asks for no kind).
    `asked`: the question as the user wrote it, when `question` is its standalone form; both must ask the same
    kind ("What did he leave out?" rewritten as "Who did Ushakov leave out?" asks for no name). `quotes`: the
    source sentence each sentence rests on, when known (see `gives`)."""
    if sentences and _affirms(asked or question, sentences):
        return "the question asks for what did not happen and no sentence of the answer has a negation"
    kind = asks(question)
    if asked and asks(asked) != kind:
        kind = None
    shown = quotes if quotes is not None else [None] * len(sentences)
    if kind is None or not sentences or any(gives(kind, s, question, known, q)
                                            for s, q in zip(sentences, shown, strict=True)):
        return ""
    where = " in the source sentence it quotes" if quotes is not None and kind in _SHOWN_KINDS else ""
    return (f"the question asks for {_DETAIL[kind]} and no sentence of the answer gives one it does not already "
            f"name{where}")
