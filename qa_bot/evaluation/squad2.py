"""The external SQuAD 2.0 sample as an eval suite: its paragraphs become documents, its questions items.

The data stays where it is ($QA_BOT_BENCHMARKS/squad2); only a cache of one .txt file per distinct
paragraph is written, named by a hash of its text so reruns find the same files and ingest skips them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from qa_bot.evaluation.dataset import DatasetError, Item


def paragraph_name(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16] + ".txt"


def load_squad2(folder: Path) -> tuple[list[Item], dict[str, str]]:
    """(questions, {file name: paragraph text}) from queries.json and ground_truth.json."""
    try:
        queries = json.loads((folder / "queries.json").read_text(encoding="utf-8"))["queries"]
        truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as e:
        raise DatasetError(f"cannot read the SQuAD 2.0 sample in {folder}: {e}") from None
    items: list[Item] = []
    paragraphs: dict[str, str] = {}
    for n, q in enumerate(queries, 1):
        gold = truth.get(q["id"], {})
        name = paragraph_name(q["context"])
        paragraphs[name] = q["context"]
        impossible = bool(gold.get("is_impossible", False))
        answers = [] if impossible else [a for a in gold.get("answers", []) if a.strip()]
        items.append(Item(id=q["id"], question=q["question"], answerable=not impossible, answers=answers,
                          docs=[name], line=n))
    return items, paragraphs


def distractor_split(items: list[Item], paragraphs: dict[str, str], n: int, removed: bool
                     ) -> tuple[list[Item], dict[str, str]]:
    """Look-alike questions: `n` answerable questions (a fixed pick, one per paragraph) and the corpus.

    removed=True: their gold paragraphs are left out of the corpus while every other paragraph stays in
    as a look-alike, so the right answer is a refusal (the items become unanswerable). removed=False:
    the same questions against the whole corpus, to be answered right.
    """
    picked: list[Item] = []
    seen: set[str] = set()
    for it in sorted((i for i in items if i.answerable), key=lambda i: hashlib.sha1(i.id.encode()).hexdigest()):
        if it.docs[0] not in seen and len(picked) < n:
            seen.add(it.docs[0])
            picked.append(it)
    if not removed:
        return [replace(it, category="gold_present") for it in picked], paragraphs
    kept = {name: text for name, text in paragraphs.items() if name not in seen}
    return [replace(it, answerable=False, answers=[], docs=[], category="gold_removed") for it in picked], kept


def write_corpus(paragraphs: dict[str, str], folder: Path) -> Path:
    """One UTF-8 file per paragraph, written only when missing (newline='' keeps the text byte-exact);
    files of paragraphs no longer in the corpus are deleted, so the next ingest drops them."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        if old.name not in paragraphs:
            old.unlink()
    for name, text in paragraphs.items():
        path = folder / name
        if not path.is_file():
            tmp = folder / f".{name}.tmp"  # hidden: ingest skips dotfiles
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            tmp.replace(path)
    return folder
