"""Eval datasets: the JSONL format of INTERFACE.md, read leniently (unknown fields ignored)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from qa_bot.errors import QaBotError


class DatasetError(QaBotError):
    """A dataset line that cannot be used; the message names the file and line."""


@dataclass
class Item:
    """One question of a dataset, with whatever gold information it carries."""

    id: str
    question: str
    answerable: bool = True
    reference: str | None = None
    answers: list[str] = field(default_factory=list)  # gold answers (SQuAD); `reference` joins them
    must_include: list[list[str]] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)  # `doc`: one source name or a list of them
    evidence: list[str] = field(default_factory=list)  # `evidence`: one verbatim passage or a list
    conversation: str | None = None
    turn: int = 0
    line: int = 0
    category: str | None = None  # optional extension: results are also broken down by it

    @property
    def golds(self) -> list[str]:
        """Every acceptable answer text for exact match / F1."""
        return self.answers or ([self.reference] if self.reference else [])


def _strings(value, what: str, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v.strip()]
    raise DatasetError(f"{where}: `{what}` must be a string or a list of strings")


def _groups(value, where: str) -> list[list[str]]:
    """must_include: a list of groups; a bare string in the list is a group of one."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise DatasetError(f"{where}: `must_include` must be a list of groups (lists of strings)")
    groups = []
    for g in value:
        alts = _strings(g, "must_include", where)
        if alts:
            groups.append(alts)
    return groups


def parse_item(obj: object, line: int, where: str) -> Item:
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: expected a JSON object")
    q = obj.get("question")
    if not isinstance(q, str) or not q.strip():
        raise DatasetError(f"{where}: missing `question`")
    answerable = obj.get("answerable", True)
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}: `answerable` must be true or false")
    ref = obj.get("reference")
    conv = obj.get("conversation")
    turn = obj.get("turn", 0)
    return Item(
        id=str(obj.get("id") or f"line{line}"),
        question=q,
        answerable=answerable,
        reference=ref if isinstance(ref, str) and ref.strip() else None,
        answers=_strings(obj.get("answers"), "answers", where),
        must_include=_groups(obj.get("must_include"), where),
        docs=_strings(obj.get("doc"), "doc", where),
        evidence=_strings(obj.get("evidence"), "evidence", where),
        conversation=None if conv in (None, "") else str(conv),
        turn=turn if isinstance(turn, int) else 0,
        line=line,
        category=str(obj["category"]) if obj.get("category") else None,
    )


def load_dataset(path: Path) -> list[Item]:
    """Every question of a JSONL file; blank lines skipped; bad lines raise DatasetError naming the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"cannot read dataset {path}: {e}") from None
    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{where}: invalid JSON ({e.msg})") from None
        item = parse_item(obj, n, where)
        if item.id in seen:  # ids key results and the baseline; make repeats unique instead of failing
            item.id = f"{item.id}#{n}"
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: no questions")
    return items


def episodes(items: list[Item]) -> list[list[Item]]:
    """Runs of questions: a single question alone, a conversation's turns together and in turn order.

    Episodes keep the file order of their first line, so results read like the dataset.
    """
    out: list[list[Item]] = []
    convs: dict[str, list[Item]] = {}
    for it in items:
        if it.conversation is None:
            out.append([it])
        elif it.conversation in convs:
            convs[it.conversation].append(it)
        else:
            convs[it.conversation] = [it]
            out.append(convs[it.conversation])
    for ep in convs.values():
        ep.sort(key=lambda it: (it.turn, it.line))
    return out


def limit_episodes(eps: list[list[Item]], limit: int | None) -> list[list[Item]]:
    """At most `limit` questions; a conversation cut short keeps its first turns."""
    if limit is None:
        return eps
    out, left = [], max(0, limit)
    for ep in eps:
        if left <= 0:
            break
        out.append(ep[:left])
        left -= len(out[-1])
    return out
