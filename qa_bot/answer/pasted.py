"""The paste check: an answer is a passage pasted, not an answer, when it copies more source sentences verbatim
than the one or two short sentences the prompt asks for. Given passages that lack the answer, the small model
often copies three to seven of their sentences in a row ("To measure the difficulty of solving a computational
problem, one may wish to see ... However, the running time may ...": asked which unit measures circuit
complexity). Each copied sentence passes the support check (it is the source), so only their number tells.

Chosen on the SQuAD pick of 40 (passage mode): of the drafts copying three or more sentences, 5 of 7 answered
a question whose paragraph was left out, 2 answered right with the paragraph kept. Whole-document answers are
not checked: on seeds-dev no draft copied more than one sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa_bot.text import sentence_spans

MAX_COPIED = 2  # verbatim source sentences an answer may hold: "one or two short sentences" (prompts/system.txt)
_MIN_CHARS = 40  # a shorter sentence found inside a passage is a phrase, not a copy


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def copied(sentences: Sequence[str], passages: Sequence[str]) -> list[str]:
    """The sentences that are verbatim sentences of the passages, or long stretches of one (case, punctuation
    and spacing aside: the markers and the model's capitalisation differ)."""
    whole = {_norm(p[a:b]) for p in passages for a, b in sentence_spans(p)}
    joined = "\n".join(_norm(p) for p in passages)
    out = []
    for s in sentences:
        n = _norm(s)
        if n and (n in whole or (len(n) >= _MIN_CHARS and n in joined)):
            out.append(s)
    return out


def pasted(sentences: Sequence[str], passages: Sequence[str]) -> str:
    """Why the sentences are a pasted passage rather than an answer ("" when they are an answer)."""
    n = len(copied(sentences, passages))
    if n <= MAX_COPIED:
        return ""
    return (f"the answer copies {n} sentences of the sources word for word where one or two short sentences were "
            "asked for: a passage pasted, not an answer")
