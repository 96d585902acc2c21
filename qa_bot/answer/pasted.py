"""The paste check: an answer is a passage pasted, not an answer, when it runs past the one or two short sentences
the prompt asks for and copies at least two of its sentences from the sources word for word. Given passages that
lack the answer, the small model often copies three to seven of their sentences in a row ("To measure the
difficulty of solving a computational problem, one may wish to see ... However, the running time may ...": asked
which unit measures circuit complexity). Each copied sentence passes the support check (it is the source), so
only their number tells.

Chosen on the SQuAD pick of 40 (passage mode), first as "three or more copied": look-alike answers refused
25 -> 30 of 40, right answers with the gold paragraph kept 26 -> 24. Held out, on the first 80 questions of the
SQuAD sample: unanswerable refused 13 -> 20 of 40, answerable right 29 -> 26 of 40. Then "more than two
sentences, two copied" (seen on both sets, so neither is held out for it): one more refusal on each, no right
answer lost. Whole-document answers are not checked: on seeds-dev no draft copied more than one sentence.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa_bot.text import sentence_spans, words

MAX_SENTENCES = 2  # "Write one or two short sentences" (prompts/system.txt)
MIN_COPIED = 2  # of a longer answer's sentences, this many verbatim make it a pasted passage (one is a quote)
_MIN_CHARS = 40  # a shorter sentence found inside a passage is a phrase, not a copy


def _norm(text: str) -> str:
    return " ".join(words(text))


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
    """Why the sentences are a pasted passage rather than an answer ("" when they are an answer): more sentences
    than the one or two asked for, at least two of them copied."""
    n = len(copied(sentences, passages)) if len(sentences) > MAX_SENTENCES else 0
    if n < MIN_COPIED:
        return ""
    return (f"the answer has {len(sentences)} sentences where one or two short ones were asked for, and copies {n} "
            "of them from the sources word for word: a passage pasted, not an answer")
