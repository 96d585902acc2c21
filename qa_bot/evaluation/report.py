"""What a person reads after an eval run: the metrics table, flips vs the baseline, failures, a chart."""

from __future__ import annotations

from pathlib import Path

from qa_bot.evaluation.metrics import LATENCIES, RATE_METRICS

TABLE_KEYS = (
    *RATE_METRICS,
    *(f"{k}_{p}" for k in LATENCIES for p in ("p50", "p95")),
    "tokens_per_s", "errors", "judge_faithfulness",
)


def _fmt(v, key: str = "") -> str:
    if v is None:
        return "n/a"
    if key.endswith(("_p50", "_p95")) or key == "tokens_per_s":
        return f"{v:.1f}"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def metrics_table(metrics: dict, base: dict | None) -> str:
    """Markdown table: metric | this run | baseline | delta."""
    lines = ["| metric | this run | baseline | Δ |", "|---|---:|---:|---:|"]
    for key in TABLE_KEYS:
        cur = metrics.get(key)
        old = (base or {}).get(key)
        if cur is None and old is None and key != "judge_faithfulness":
            continue
        delta = _fmt(cur - old, key) if isinstance(cur, int | float) and isinstance(old, int | float) else ""
        lines.append(f"| {key} | {_fmt(cur, key)} | {_fmt(old, key)} | {delta if delta.startswith('-') else '+' + delta if delta else ''} |")
    return "\n".join(lines)


def flips(rows: list[dict], base_questions: dict[str, bool]) -> tuple[list[dict], list[dict]]:
    """(now passing but failing in the baseline, now failing but passing in the baseline)."""
    fixed, broken = [], []
    for r in rows:
        old = base_questions.get(r["id"])
        if old is None:
            continue
        now = bool(r["eval"]["passed"])
        if now and not old:
            fixed.append(r)
        elif old and not now:
            broken.append(r)
    return fixed, broken


def by_category(rows: list[dict]) -> list[str]:
    """Pass rate per `category` (an optional dataset field), when the dataset has one."""
    cats: dict[str, list[bool]] = {}
    for r in rows:
        if r.get("category"):
            cats.setdefault(r["category"], []).append(bool(r["eval"]["passed"]))
    if not cats:
        return []
    out = ["## By category", "", "| category | questions | passed |", "|---|---:|---:|"]
    out += [f"| {c} | {len(v)} | {sum(v) / len(v):.2f} |" for c, v in sorted(cats.items())]
    return [*out, ""]


def why_failed(flags: dict) -> str:
    reasons = []
    if flags.get("error"):
        reasons.append(f"error: {flags['error']}")
    if not flags.get("abstain_ok"):
        reasons.append("answered an unanswerable question" if not flags["answerable"] else "refused an answerable question")
    if flags.get("correct") is False and flags.get("refused") is False:
        reasons.append("wrong answer")
    if flags.get("citations_valid") is False:
        reasons.append("invalid citations: " + "; ".join(flags.get("citation_problems", [])))
    return ", ".join(reasons) or "failed"


def expected(row: dict) -> str:
    """What the question expected, in words: a refusal, the must_include groups it missed, the reference."""
    g = row.get("gold", {})
    if not g.get("answerable", True):
        return "a refusal (the sources do not answer this)"
    parts = []
    if missing := row["eval"].get("missing"):
        parts.append("missing " + "; ".join(" or ".join(f'"{a}"' for a in grp) for grp in missing))
    elif g.get("must_include"):
        parts.append("must mention " + "; ".join(" or ".join(f'"{a}"' for a in grp) for grp in g["must_include"]))
    elif g.get("answers"):
        parts.append("one of " + ", ".join(f'"{a}"' for a in g["answers"]))
    if g.get("reference"):
        parts.append(f"reference: {g['reference']}")
    return " | ".join(parts) or "an answer"


def _answer_block(r: dict) -> list[str]:
    out = [f"### {r['id']}: {r['question']}", "", f"- why: {why_failed(r['eval'])}"]
    out.append(f"- answer: {r.get('answer', '') or '(none)'}")
    for c in r.get("citations", []):
        out.append(f"  - [{c['marker']}] {c['source']} {c['start']}-{c['end']}: \"{c['quote']}\"")
    out.append(f"- expected: {expected(r)}")
    out += [f"- evidence: \"{e}\"" for e in r.get("gold", {}).get("evidence", [])]
    out += [f"- unsupported: {u['sentence']} ({u['reason']})" for u in r["eval"].get("unsupported", [])]
    return [*out, ""]


def failures_by_category(rows: list[dict]) -> list[str]:
    """Every failed question, grouped by category, with what was said, expected and the evidence."""
    failures = [r for r in rows if not r["eval"]["passed"]]
    out = [f"## Failures ({len(failures)})", ""]
    groups: dict[str, list[dict]] = {}
    for r in failures:
        groups.setdefault(r.get("category") or "uncategorised", []).append(r)
    for cat in sorted(groups):
        out += [f"### Category `{cat}` ({len(groups[cat])})", ""]
        for r in groups[cat]:
            out += ["#" + line if line.startswith("### ") else line for line in _answer_block(r)]
    return out


def render_report(summary: dict, rows: list[dict], base: dict | None, gates: list[dict]) -> str:
    m = summary["metrics"]
    head = [
        f"# Eval: {summary['suite']}", "",
        f"{m['questions']} questions ({m['answerable']} answerable, {m['unanswerable']} unanswerable), "
        f"model `{summary['model']}`, embedder `{summary['embed_model']}`, k={summary['k']}, "
        f"{summary['seconds']:.1f} s.", "",
    ]
    if summary.get("limit") is not None:
        head += [f"Limited to {summary['limit']} questions: compared with the baseline's results for the same ids.", ""]
    if base is None:
        head += [f"No baseline for this suite and model `{summary['model']}` (eval/baseline.json): no drop gate, no flips.", ""]
    head += ["## Metrics", "", metrics_table(m, base["metrics"] if base else None), ""]
    head += [f"Tokens/s counts {summary['token_unit']}.", ""] if m.get("tokens_per_s") else []
    head += ["## Gates", ""] + [f"- {'ok  ' if g['ok'] else 'FAIL'} {g['detail']}" for g in gates] + [""]
    if base is not None:
        fixed, broken = flips(rows, base.get("questions", {}))
        head += [f"## Flipped vs baseline ({len(broken)} now failing, {len(fixed)} now passing)", ""]
        head += [f"- now failing: {r['id']}: {r['question']}" for r in broken]
        head += [f"- now passing: {r['id']}: {r['question']}" for r in fixed] + [""]
    head += by_category(rows)
    head += failures_by_category(rows)
    return "\n".join(head).rstrip() + "\n"


def plot(metrics: dict, base: dict | None, path: Path, title: str) -> Path:
    """Horizontal bars of the [0, 1] metrics, this run next to the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    keys = [k for k in RATE_METRICS if metrics.get(k) is not None or (base or {}).get(k) is not None]
    y = np.arange(len(keys))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(keys) + 1.2))
    cur = [metrics.get(k) or 0.0 for k in keys]
    if base:
        ax.barh(y + 0.2, [base.get(k) or 0.0 for k in keys], 0.4, label="baseline", color="#bbbbbb")
    bars = ax.barh(y - 0.2 if base else y, cur, 0.4, label="this run", color="#3b75af")
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in cur], fontsize=7, padding=2)
    ax.set_yticks(y, keys)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
