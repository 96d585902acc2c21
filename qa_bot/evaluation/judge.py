"""Optional, report-only LLM judge of faithfulness: does the cited text back the whole answer?

Off unless `judge_provider` is set. It scores what the citation check cannot see (a paraphrase that
changes the meaning while sharing the words); it never gates, because a small judge is noisy.
"""

from __future__ import annotations

import re

from qa_bot.answer.prompts import PROMPTS_DIR, render
from qa_bot.errors import QaBotError
from qa_bot.schema import Answer

_VERDICT = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def parse_verdict(reply: str) -> float | None:
    """1.0 for YES, 0.0 for NO (the first of the two words), None when the reply says neither."""
    m = _VERDICT.search(reply or "")
    return None if m is None else float(m.group(1).lower() == "yes")


class Judge:
    def __init__(self, llm, prompts_dir=PROMPTS_DIR, max_tokens: int = 4):
        self.llm, self.prompts_dir, self.max_tokens = llm, prompts_dir, max_tokens

    def __call__(self, answer: Answer) -> float | None:
        """The verdict on an answered question; None for refusals, uncited answers and failed calls."""
        if answer.refused or not answer.citations:
            return None
        cited = {c.chunk_id for c in answer.citations}
        passages = [s.chunk.text for s in answer.retrieved if s.chunk.id in cited] or [c.quote for c in answer.citations]
        prompt = render("judge", self.prompts_dir, passages=passages, answer=answer.answer)
        try:
            reply = "".join(self.llm.stream([{"role": "user", "content": prompt}], max_tokens=self.max_tokens))
        except QaBotError:
            return None
        return parse_verdict(reply)
