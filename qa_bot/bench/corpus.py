"""Benchmark inputs: SQuAD paragraphs and questions, a large corpus varied from them, seed questions.

The large corpus is real English recombined, not random tokens, so BM25 posting lists and HNSW
neighbourhoods look like a real collection's. Embedding 100k chunks with MiniLM on two cores would
take most of an hour, so each base sentence is embedded once and a varied chunk's vector is the
normalised mean of its sentences' vectors plus a little noise (close to what MiniLM gives for the
concatenation, and just as dense in the space).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa_bot.schema import Chunk
from qa_bot.text import split_sentences


def write_paragraphs(paragraphs: list[str], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, p in enumerate(paragraphs):
        f = folder / f"squad_{i:04d}.txt"
        f.write_text(p, encoding="utf-8")
        out.append(f)
    return out


@dataclass
class SyntheticCorpus:
    chunks: list[Chunk]
    vectors: np.ndarray  # (n, dim) float32, unit length
    base_sentences: int
    base_paragraphs: int


def make_corpus(paragraphs: list[str], embedder, n: int, seed: int = 0, noise: float = 0.01) -> SyntheticCorpus:
    """n chunks, each 2-5 shuffled sentences of one paragraph, half of them with a sentence from another."""
    sents: list[str] = []
    by_para: list[list[int]] = []
    for p in paragraphs:
        ids = []
        for s in split_sentences(p):
            ids.append(len(sents))
            sents.append(s)
        if ids:
            by_para.append(ids)
    if not by_para:
        raise ValueError("no sentences to build a corpus from")
    base = np.asarray(embedder.embed(sents), dtype=np.float32)
    rng = np.random.default_rng(seed)
    chunks: list[Chunk] = []
    picks: list[list[int]] = []
    for i in range(n):
        para = int(rng.integers(len(by_para)))
        own = list(by_para[para])
        rng.shuffle(own)
        m = int(rng.integers(2, 6))
        chosen = own[:m]
        if rng.random() < 0.5:
            other = by_para[int(rng.integers(len(by_para)))]
            chosen.insert(int(rng.integers(len(chosen) + 1)), other[int(rng.integers(len(other)))])
        text = " ".join(sents[k] for k in chosen)
        picks.append(chosen)
        chunks.append(Chunk(
            id=f"syn{i:07d}", doc_id=f"syn{i // 10:06d}", source=f"squad_variant_{i // 10:06d}.txt",
            title="SQuAD variant", text=text, start=0, end=len(text), position=i % 10,
        ))
    vecs = np.zeros((n, base.shape[1]), dtype=np.float32)
    for i, chosen in enumerate(picks):
        vecs[i] = base[chosen].mean(axis=0)
    vecs += rng.normal(0.0, noise, size=vecs.shape).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return SyntheticCorpus(chunks, vecs, len(sents), len(by_para))


# Used when eval/seeds-dev.jsonl and -test are missing: questions over the two seed articles, with must_include groups.
BUILTIN_SEED_QUESTIONS = [
    {"id": "b1", "question": "When and where did Putin and Zelensky first meet?", "answerable": True,
     "must_include": [["Paris"], ["2019"]]},
    {"id": "b2", "question": "What does Russian state television call Zelensky?", "answerable": True,
     "must_include": [["clown"]]},
    {"id": "b3", "question": "Which Russian lawmaker called a Putin-Zelensky meeting a compromise?", "answerable": True,
     "must_include": [["Zatulin"]]},
    {"id": "b4", "question": "Where did Trump and Putin hold a summit before the White House talks?", "answerable": True,
     "must_include": [["Alaska"]]},
    {"id": "b5", "question": "Who is Yuri Ushakov?", "answerable": True,
     "must_include": [["adviser", "advisor", "aide"]]},
    {"id": "b6", "question": "Which think tank is Tatiana Stanovaya a senior fellow at?", "answerable": True,
     "must_include": [["Carnegie"]]},
    {"id": "b7", "question": "What did Zelensky do when Putin passed up the chance to meet in Turkey?", "answerable": True,
     "must_include": [["Turkey"], ["afraid", "flew"]]},
    {"id": "b8", "question": "Which countries' leaders did Putin call this week?", "answerable": True,
     "must_include": [["Saudi", "India", "Brazil", "Kazakhstan", "Belarus"]]},
    {"id": "b9", "question": "What is the population of Kyiv?", "answerable": False, "must_include": []},
    {"id": "b10", "question": "Who wrote the Wall Street Journal article?", "answerable": True,
     "must_include": [["Grove", "Luxmoore"]]},
]


SEED_SUITES = ("seeds-dev.jsonl", "seeds-test.jsonl")


def seed_questions(root: Path) -> tuple[list[dict], str]:
    """Single-turn questions of the seeds suite (eval/seeds-dev.jsonl and -test) if present, else the built-in ones."""
    from dataclasses import asdict

    from qa_bot.evaluation.dataset import load_dataset

    out, used = [], []
    for name in SEED_SUITES:
        path = root / "eval" / name
        if path.is_file():
            used.append(str(path))
            # follow-ups need their earlier turns; the bench asks first turns only
            out += [asdict(i) for i in load_dataset(path) if not (i.conversation and i.turn > 1)]
    if out:
        return out, " + ".join(used)
    return list(BUILTIN_SEED_QUESTIONS), "built-in seed questions"


def is_correct(q: dict, answer: str, refused: bool) -> bool:
    """The eval's own rule (qa_bot.evaluation.matcher) on a question dict; nothing to check counts as wrong."""
    from qa_bot.evaluation.matcher import is_correct as match

    verdict = match(bool(q.get("answerable", True)), refused, answer, q.get("must_include") or [], q.get("answers") or [],
                    q.get("reference") or "")
    return bool(verdict)


def fallback_paragraphs(seeds_dir: Path) -> list[str]:
    """Paragraphs of the seed articles, for when the SQuAD sample is not there."""
    out = []
    for f in sorted(Path(seeds_dir).glob("*.txt")):
        out += [p.strip() for p in f.read_text(encoding="utf-8").split("\n") if len(p.strip()) > 80]
    return out
