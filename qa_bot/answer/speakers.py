"""Who a sentence gives its words or view to: "Golosov predicts X" must not rest on "Mr. Trenin predicted X".

The entity check finds a name anywhere near the passage, and in a news article every analyst is named a
paragraph or two from every other one; so a quote pinned on the wrong person passes it. The speaker check
reads who the claim says spoke ("According to Golosov, ...", "Golosov predicts ...", "..., said Golosov") and
who the sentence it rests on says spoke; when both are named and differ, and the quoted sentence does not
name the claim's speaker too, the claim is removed. Rules, no model: no NER or coreference model ships
inside a PyPI package here; "he said" names no one, so it never conflicts.
"""

from __future__ import annotations

import re

from qa_bot.answer import asked as asked_rules
from qa_bot.answer import entities as entity_rules
from qa_bot.text import STOPWORDS, words

_VERBS = ("said says say told tells added adds predicted predicts predict thinks think thought believes believe "
          "believed argued argues warned warns noted notes wrote writes expects expect expected insisted insists "
          "suggested suggests claimed claims stated states contended contends estimated estimates").split()
_VERB = rf"(?:{'|'.join(_VERBS)})"
_NAME = r"(?:(?:Mr|Mrs|Ms|Dr)\.?\s+)?(?P<name>(?:[A-Z][\w'’-]*\.?\s+){0,3}[A-Z][\w'’-]+)"
_PATTERNS = (
    re.compile(rf"\b(?i:according to)\s+{_NAME}"),  # "According to Tatiana Stanovaya, ..."
    re.compile(rf"{_NAME}(?:'s|’s)?(?:,[^,]{{1,120}},)?\s+(?:(?:has|had|also|then|would|does|did|do)\s+(?:not\s+)?)?{_VERB}\b"),
    re.compile(rf"[,\"”]\s*{_VERB}\s+{_NAME}"),  # "“...,” said Samuel Charap"
)
# words that end no person's name: "The article says", "According to The Wall Street Journal" name no speaker
_NOT_PEOPLE = (frozenset(w.lower() for w in asked_rules.PUBLISHERS) | frozenset(asked_rules.DOCUMENT_WORDS)
               | frozenset(w + "s" for w in asked_rules.DOCUMENT_WORDS) | STOPWORDS | entity_rules.TITLES)


def speaker(sentence: str) -> str | None:
    """The surname (lower case) of the person the sentence says spoke or thinks, if it names one."""
    for rx in _PATTERNS:
        for m in rx.finditer(sentence):
            last = m["name"].split()[-1].replace("’", "'").removesuffix("'s").lower()  # a capital, two letters or more
            if last not in _NOT_PEOPLE:
                return last
    return None


def misattributed(claim: str, quoted: str) -> str:
    """Why the claim gives the quoted sentence's words to the wrong person ("" if it does not): the quoted
    sentence names another speaker and does not name the claim's."""
    said_by = speaker(claim)
    if said_by is None:
        return ""
    source = speaker(quoted)
    if source is None or source == said_by:
        return ""
    if said_by in words(entity_rules.normalise(quoted)):
        return ""
    return f"the sentence it rests on gives these words to {source.title()}, not {said_by.title()}"
