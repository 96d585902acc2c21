"""Judge-free eval metrics: pure functions over answers and gold data (no I/O, no models of their own)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from qa_bot.answer.citations import MARKER
from qa_bot.evaluation.matcher import mentions
from qa_bot.schema import Citation

# Metrics where higher is better and that live in [0, 1]: the ones gated against the baseline and charted.
RATE_METRICS = (
    "correctness", "exact_match", "f1", "contains_gold", "abstention_accuracy", "answered_rate", "refused_rate",
    "hit_at_k", "recall_at_k", "mrr", "citation_validity", "independent_support", "pass_rate",
)
# metrics averaged over the answerable questions only (their denominator for the noise allowance)
ANSWERABLE_METRICS = ("correctness", "exact_match", "f1", "contains_gold", "answered_rate")
LATENCIES = ("retrieval_ms", "first_token_ms", "total_ms")


# --- answers against gold text (SQuAD v2 official normalisation)

def strip_markers(text: str) -> str:
    """The answer without its [n] citation markers."""
    return MARKER.sub("", text)


def normalize_answer(s: str) -> str:
    """SQuAD: lower case, no punctuation, no articles, single spaces."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation) | {"‘", "’", "“", "”"})
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    p = normalize_answer(strip_markers(prediction))
    return float(any(p == normalize_answer(g) for g in golds)) if golds else 0.0


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1, the best over the gold answers."""
    pred = normalize_answer(strip_markers(prediction)).split()
    best = 0.0
    for g in golds:
        gold = normalize_answer(g).split()
        if not pred or not gold:
            best = max(best, float(pred == gold))
            continue
        common = sum((Counter(pred) & Counter(gold)).values())
        if common:
            prec, rec = common / len(pred), common / len(gold)
            best = max(best, 2 * prec * rec / (prec + rec))
    return best


def contains_gold(prediction: str, golds: Sequence[str]) -> bool:
    """Some gold answer is mentioned in the answer (whole words, the matcher's rule): fair to long answers."""
    return any(mentions(prediction, g) for g in golds)


def abstention_ok(answerable: bool, refused: bool) -> bool:
    """Answerable questions must be answered, unanswerable ones refused."""
    return refused != answerable


# --- retrieval

def _ws(text: str) -> str:
    return " ".join(text.split()).lower()


def retrieval_scores(
    retrieved: Sequence[tuple[str, str]], docs: Sequence[str], evidence: Sequence[str]
) -> dict[str, float] | None:
    """hit / recall / reciprocal rank of the retrieved (source, text) list, or None without gold.

    A chunk is relevant when it contains an `evidence` passage (whitespace-normalised) or, when the item
    gives no evidence, when its source is one of `docs`. Recall = share of the gold units found.
    """
    if evidence:
        units = [_ws(e) for e in evidence]

        def matches(src: str, text: str) -> set[int]:
            t = _ws(text)
            return {i for i, u in enumerate(units) if u in t}
    elif docs:
        units = list(docs)

        def matches(src: str, text: str) -> set[int]:
            return {i for i, u in enumerate(units) if u == src}
    else:
        return None
    found: set[int] = set()
    first = 0
    for rank, (src, text) in enumerate(retrieved, 1):
        m = matches(src, text)
        if m and not first:
            first = rank
        found |= m
    return {"hit": float(bool(first)), "recall": len(found) / len(units), "rr": 1.0 / first if first else 0.0}


# --- citations

SourceText = Callable[[Citation], "tuple[str, int] | None"]  # citation -> (text, offset of text in the source)


def citation_problems(answer: str, refused: bool, citations: Sequence[Citation], source_text: SourceText) -> list[str]:
    """Why the citations are invalid (empty list = valid).

    Valid: markers 1..n without gaps or repeats; every citation referenced by a marker in the answer and
    every marker backed by a citation; every quote verbatim in its source at [start:end]; a refusal cites
    nothing and an answer cites something.
    """
    problems: list[str] = []
    in_text = {int(n) for grp in MARKER.findall(answer) for n in re.split(r"\s*[,;]\s*", grp.strip())}
    markers = [c.marker for c in citations]
    if refused:
        return ["a refusal carries citations"] if citations or in_text else []
    if not citations:
        return ["an answer without citations"]
    if sorted(markers) != list(range(1, len(markers) + 1)):
        problems.append(f"markers {markers} are not 1..{len(markers)}")
    if missing := sorted(in_text - set(markers)):
        problems.append(f"marker(s) {missing} in the answer have no citation")
    if unused := sorted(set(markers) - in_text):
        problems.append(f"citation(s) {unused} not referenced in the answer")
    for c in citations:
        got = source_text(c)
        if got is None:
            problems.append(f"[{c.marker}] source '{c.source}' not found")
            continue
        text, base = got
        if c.start < base or c.end > base + len(text) or c.end <= c.start:
            problems.append(f"[{c.marker}] span {c.start}:{c.end} outside '{c.source}'")
        elif text[c.start - base : c.end - base] != c.quote:
            problems.append(f"[{c.marker}] quote is not verbatim at {c.start}:{c.end} of '{c.source}'")
    return problems


# --- aggregation

def percentile(values: Sequence[float], q: float, digits: int = 1) -> float | None:
    """The q-th percentile rounded to `digits`; None for no values (the eval and the bench share it)."""
    return round(float(np.percentile(values, q)), digits) if values else None


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def aggregate(rows: Sequence[dict]) -> dict[str, float | int | None]:
    """Suite metrics from per-question flags (the `eval` object of each results row)."""

    def vals(key: str, where: Callable[[dict], bool] = lambda r: True) -> list[float]:
        return [float(r[key]) for r in rows if where(r) and r.get(key) is not None]

    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    m: dict[str, float | int | None] = {
        "questions": len(rows), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "errors": sum(1 for r in rows if r.get("error")),
        "answers": sum(1 for r in rows if r.get("refused") is False),  # the answers support is averaged over
        "correctness": _mean(vals("correct", lambda r: r["answerable"])),
        "exact_match": _mean(vals("em", lambda r: r["answerable"])),
        "f1": _mean(vals("f1", lambda r: r["answerable"])),
        "contains_gold": _mean(vals("contains_gold", lambda r: r["answerable"])),
        "abstention_accuracy": _mean(vals("abstain_ok")),
        "answered_rate": _mean([float(r["refused"] is False) for r in answerable]),
        "refused_rate": _mean([float(r["refused"] is True) for r in unanswerable]),
        "hit_at_k": _mean(vals("hit")), "recall_at_k": _mean(vals("recall")), "mrr": _mean(vals("rr")),
        "citation_validity": _mean(vals("citations_valid")),
        "independent_support": _mean(vals("support")),
        "pass_rate": _mean(vals("passed")),
    }
    for key in LATENCIES:
        xs = vals(key)
        m[f"{key}_p50"], m[f"{key}_p95"] = percentile(xs, 50), percentile(xs, 95)
    tokens, secs = sum(vals("tokens")), sum(vals("gen_ms")) / 1000
    m["tokens_per_s"] = round(tokens / secs, 2) if tokens and secs > 0 else None
    m["judge_faithfulness"] = _mean(vals("judge"))  # report-only; None unless a judge is configured
    return m
