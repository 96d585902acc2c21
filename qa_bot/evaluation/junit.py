"""`qa-bot eval --junit FILE`: results as JUnit XML, which CI systems show as test results.

One test suite per eval suite, one test case per question (a failure carries the answer, what was
expected and the evidence), plus one test case per gate.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from qa_bot.evaluation.report import expected, why_failed


def _case(parent: ET.Element, classname: str, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(parent, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")


def failure_text(row: dict) -> str:
    flags = row["eval"]
    lines = [f"question: {row['question']}", f"answer: {row.get('answer') or '(none)'}",
             f"expected: {expected(row)}"]
    for e in row.get("gold", {}).get("evidence", []):
        lines.append(f"evidence: {e}")
    for u in flags.get("unsupported", []):
        lines.append(f"unsupported: {u['sentence']} ({u['reason']})")
    return "\n".join(lines)


def write_junit(path: Path, summaries: dict[str, dict], rows: dict[str, list[dict]]) -> Path:
    root = ET.Element("testsuites", name="qa-bot eval")
    for name, summary in summaries.items():
        suite_rows = rows[name]
        failed = sum(1 for r in suite_rows if not r["eval"]["passed"]) + sum(1 for g in summary["gates"] if not g["ok"])
        ts = ET.SubElement(root, "testsuite", name=name, tests=str(len(suite_rows) + len(summary["gates"])),
                           failures=str(failed), errors="0", time=f"{summary['seconds']:.3f}")
        for r in suite_rows:
            case = _case(ts, f"{name}.{r.get('category') or 'question'}", f"{r['id']}: {r['question'][:120]}",
                         (r["eval"].get("total_ms") or 0) / 1000)
            if not r["eval"]["passed"]:
                fail = ET.SubElement(case, "failure", message=why_failed(r["eval"]), type="wrong answer")
                fail.text = failure_text(r)
        for g in summary["gates"]:
            case = _case(ts, f"{name}.gates", g["name"])
            if not g["ok"]:
                ET.SubElement(case, "failure", message=g["detail"], type="gate").text = g["detail"]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
