"""`qa-bot eval --replay DIR`: the drafts an earlier run recorded (each question's `raw_answer` and
`second_draft`, and each follow-up's rewrite, in DIR's results.jsonl files) fed back through today's retrieval
and checks instead of sampling the model. A change to a check is then measured in seconds, on exactly the
drafts it will meet; the model is still loaded, for its tokenizer (the context planner counts tokens with it).
Written here rather than taken from a library: the drafts to replay are our own eval's records."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from qa_bot.errors import QaBotError
from qa_bot.llm.backends import BaseChatModel, ChatModel

_QUESTION = re.compile(r"^Question: (.*)$", re.M)  # prompts/answer.txt
_LAST = re.compile(r"^Last question: (.*)$", re.M)  # prompts/condense.txt


class ReplayError(QaBotError):
    pass


class ReplayModel(BaseChatModel):
    """A ChatModel that answers with what the recorded run's model wrote for the same question."""

    def __init__(self, folder: Path, tokenizer: ChatModel | None):
        files = sorted(Path(folder).rglob("results.jsonl"))
        if not files:
            raise ReplayError(f"--replay {folder}: no results.jsonl under it (the --out folder of an earlier eval)")
        self.by_question: dict[str, dict] = {}
        self.by_standalone: dict[str, dict] = {}
        for f in files:
            for line in f.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                self.by_question.setdefault(row["question"].strip(), row)
                self.by_standalone.setdefault(row["standalone_question"].strip(), row)
        self.tokenizer = tokenizer
        self.name = tokenizer.name if tokenizer is not None else "replay"  # the recorded run's baseline applies
        self.missing: list[str] = []  # questions no recorded run asked: answered with nothing (a refusal)

    def count_tokens(self, text: str) -> int | None:
        return self.tokenizer.count_tokens(text) if self.tokenizer is not None else None

    def stream(self, messages: list[dict], max_tokens: int = 256, stop: list[str] | None = None) -> Iterator[str]:
        last = messages[-1]["content"]
        if (m := _LAST.search(last)) is not None:  # a follow-up rewritten: the recorded rewrite
            row = self.by_question.get(m.group(1).strip())
            yield row["standalone_question"] if row else m.group(1).strip()
            return
        earlier = [m for m in messages[:-1] if m["role"] == "user" and _QUESTION.search(m["content"])]
        if earlier and messages[-2]["role"] == "assistant":  # told why its draft was removed: the second draft
            row = self._row(_QUESTION.findall(earlier[-1]["content"])[-1])
            yield (row or {}).get("second_draft") or ""
            return
        found = _QUESTION.findall(last)
        row = self._row(found[-1]) if found else None
        yield (row or {}).get("raw_answer") or ""

    def _row(self, question: str) -> dict | None:
        row = self.by_standalone.get(question.strip())
        if row is None:
            self.missing.append(question.strip())
        return row
