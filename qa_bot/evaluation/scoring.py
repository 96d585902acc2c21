"""Asking one dataset episode and turning each answer into a results row with per-question flags."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa_bot.bot import Turn
from qa_bot.errors import BadFileError, QaBotError
from qa_bot.evaluation.dataset import Item
from qa_bot.evaluation.matcher import is_correct, missing_groups
from qa_bot.evaluation.support import support
from qa_bot.ingest.loaders import load_file
from qa_bot.ingest.manifest import Manifest
from qa_bot.schema import Answer, Citation
from qa_bot.settings import Settings

from . import metrics as M


class SourceResolver:
    """Citation -> (source text as loaded, offset of that text in the source), for quote checks.

    Sources are found through the index manifest and loaded with the ingest loader, so quotes are checked
    against exactly the text that was indexed. A source whose file is gone is checked against the stored
    chunk the citation came from instead.
    """

    def __init__(self, settings: Settings, store):
        self.s, self.store = settings, store
        m = Manifest.load(Path(settings.index_dir) / "manifest.json")
        self.paths: dict[str, list[str]] = {}
        for key, e in (m.sources if m else {}).items():
            self.paths.setdefault(e.source, []).append(key)
        self.cache: dict[str, str | None] = {}

    def _file_text(self, key: str) -> str | None:
        if key not in self.cache:
            try:
                doc = load_file(Path(key), max_bytes=int(self.s.max_file_mb * 1e6), allowed=self.s.allowed_extensions)
                self.cache[key] = doc.text
            except BadFileError:
                self.cache[key] = None
        return self.cache[key]

    def passage(self, c: Citation) -> str | None:
        """The passage a citation was taken from, with its document's title and neighbouring passages (its
        quote and title when the chunk is gone): the independent support check reads this."""
        chunk = self.store.get([c.chunk_id]).get(c.chunk_id) if c.chunk_id else None
        if chunk is None:
            return f"{c.title}\n{c.quote}"
        doc, pos = chunk.id.rsplit(":", 1)
        near = self.store.get([f"{doc}:{int(pos) + d:0{len(pos)}d}" for d in (-1, 1)]) if pos.isdigit() else {}
        return "\n".join([chunk.title, *(n.text for n in near.values()), chunk.text])

    def __call__(self, c: Citation) -> tuple[str, int] | None:
        texts = [t for t in (self._file_text(k) for k in self.paths.get(c.source, [])) if t is not None]
        for t in texts:  # same file name in two folders: the one holding the quote
            if t[c.start : c.end] == c.quote:
                return t, 0
        if texts:
            return texts[0], 0
        chunk = self.store.get([c.chunk_id]).get(c.chunk_id) if c.chunk_id else None
        return (chunk.text, chunk.start) if chunk is not None else None


@dataclass
class Run:
    answer: Answer | None
    error: str = ""
    tokens: int = 0  # generated after the first piece (pieces or model tokens)
    gen_ms: float = 0.0  # first piece -> last piece


def ask_episode(bot, episode: list[Item]) -> Iterator[tuple[Item, Run]]:
    """Ask the turns in order, each with the earlier turns as history."""
    history: list[Turn] = []
    for item in episode:
        pieces: list[str] = []
        first = last = 0.0
        ans: Answer | None = None
        try:
            for ev in bot.stream(item.question, list(history)):
                if isinstance(ev, Answer):
                    ans = ev
                else:
                    last = time.perf_counter()
                    first = first or last
                    pieces.append(ev)
        except QaBotError as e:
            yield item, Run(None, str(e))
            continue
        assert ans is not None
        counted = bot.llm.count_tokens("".join(pieces)) if pieces and bot.llm else None  # None: no tokenizer at hand
        n = (len(pieces) if counted is None else counted) - 1
        yield item, Run(ans, tokens=max(0, n), gen_ms=(last - first) * 1000 if n > 0 else 0.0)
        history.append(Turn(ans.standalone_question, ans.answer))


def gold(item: Item) -> dict:
    """What the question expected, carried in the results row for the report and JUnit."""
    return {"answerable": item.answerable, "reference": item.reference, "must_include": item.must_include,
            "answers": item.answers[:5], "evidence": item.evidence, "docs": item.docs}


def score(item: Item, run: Run, resolver: SourceResolver) -> dict:
    """The results row: the answer object, its id, and an `eval` object of per-question flags."""
    flags: dict = {"answerable": item.answerable, "refused": None, "error": run.error or None}
    if run.answer is None:
        flags.update(abstain_ok=False, correct=False if item.answerable else None, citations_valid=False,
                     citation_problems=[], passed=False)
        return {"id": item.id, "question": item.question, "answer": "", "citations": [], "category": item.category,
                "gold": gold(item), "eval": flags}
    a = run.answer
    flags["refused"] = a.refused
    flags["abstain_ok"] = M.abstention_ok(item.answerable, a.refused)
    golds = item.golds
    if item.answerable:
        flags["correct"] = is_correct(True, a.refused, a.answer, item.must_include, item.answers,
                                      item.reference or "")
        if item.must_include and not a.refused:
            flags["missing"] = missing_groups(a.answer, item.must_include)
        if golds:
            flags["em"] = 0.0 if a.refused else M.exact_match(a.answer, golds)
            flags["f1"] = 0.0 if a.refused else round(M.token_f1(a.answer, golds), 4)
            flags["contains_gold"] = not a.refused and M.contains_gold(a.answer, golds)
    r = M.retrieval_scores([(s.chunk.source, s.chunk.text) for s in a.retrieved], item.docs, item.evidence)
    flags.update(r or {})
    problems = M.citation_problems(a.answer, a.refused, a.citations, resolver)
    flags["citations_valid"], flags["citation_problems"] = not problems, problems
    if not a.refused:
        verdicts = support(a.answer, a.citations, resolver.passage)
        if verdicts:
            flags["support"] = round(sum(v.supported for v in verdicts) / len(verdicts), 4)
            flags["unsupported"] = [{"sentence": v.sentence, "reason": v.reason} for v in verdicts if not v.supported]
    flags.update({k: round(a.timings[k], 1) for k in M.LATENCIES if k in a.timings})
    if run.tokens:
        flags["tokens"], flags["gen_ms"] = run.tokens, round(run.gen_ms, 1)
    flags["passed"] = bool(flags["abstain_ok"] and flags.get("correct") is not False and not problems)
    row = {"id": item.id, **a.to_dict()}
    if item.conversation is not None:
        row["conversation"], row["turn"] = item.conversation, item.turn
    if item.category is not None:
        row["category"] = item.category
    row["gold"] = gold(item)
    row["eval"] = flags
    return row
