"""`qa-bot bench --embedders`: what each embedder costs (issue 16).

Each embedder runs in a fresh process of its own, one after the other, so its peak RSS and load time are
its own: load the model, ingest the seeds and the SQuAD 2.0 sample's paragraphs into fresh indexes with the
configured chunking, then embed questions one at a time for the query latency. MiniLM is always measured in
the same run, and every figure gets its ratio against MiniLM. Retrieval quality is `qa-bot eval`'s business
(docs/benchmarks.md, "Embedders").
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qa_bot.settings import Settings

NAMES = ("all-MiniLM-L6-v2", "all-mpnet-base-v2", "embeddinggemma-300m")
RATIO_KEYS = ("load_s", "ingest_seeds_s", "ingest_squad2_s", "query_ms_p50", "size_mb", "peak_rss_mb")


class _TimedEmbedder:
    """Passes through and adds up the seconds spent embedding (ingest minus chunking and the store)."""

    def __init__(self, inner):
        self.inner, self.name, self.seconds = inner, inner.name, 0.0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: list[str]):
        t0 = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t0


def _folder_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def measure_one(s: Settings, name: str, work: Path, paragraphs: int | None, questions: int) -> dict:
    """In this process: load `name`, ingest the seeds and the SQuAD paragraphs, time query embeddings."""
    from qa_bot.evaluation.squad2 import load_squad2, write_corpus
    from qa_bot.factory import build_ingestor
    from qa_bot.retrieval.embeddings import SentenceTransformerEmbedder, embed_query, model_path

    t0 = time.perf_counter()
    folder = model_path(name, Path(s.model_cache))  # assembled earlier (`make embedders`): only its marker is read
    emb = SentenceTransformerEmbedder(name, s.embed_batch_size, Path(s.model_cache))
    emb.embed(["warm up"])
    row: dict = {"embedder": name, "dim": emb.dim, "query_prompt": emb.query_prompt,
                 "load_s": round(time.perf_counter() - t0, 2), "size_mb": _folder_mb(folder)}
    items, paras = load_squad2(Path(s.benchmarks) / "squad2")
    picked = dict(list(paras.items())[:paragraphs]) if paragraphs else paras
    seeds = Path(s.seeds_dir) if Path(s.seeds_dir).is_dir() else Path(__file__).resolve().parents[2] / "seeds"
    for label, corpus in (("seeds", seeds), ("squad2", write_corpus(picked, work / "squad2-corpus"))):
        sub = s.model_copy(update={"index_dir": work / f"{label}-index", "data_dir": work / "data", "chroma_url": "",
                                   "embed_model": name})
        timed = _TimedEmbedder(emb)
        t0 = time.perf_counter()
        report = build_ingestor(sub, embedder=timed).run([corpus], progress=False)
        row[f"ingest_{label}_s"] = round(time.perf_counter() - t0, 2)
        row[f"embed_{label}_s"] = round(timed.seconds, 2)
        row[f"chunks_{label}"] = report.chunks
        if label == "squad2":
            row["squad2_paragraphs"] = len(picked)
    qs = list(dict.fromkeys(i.question for i in items))[:questions]
    embed_query(emb, qs[:3])
    lat = []
    for q in qs:
        t0 = time.perf_counter()
        embed_query(emb, [q])
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    row["queries"] = len(lat)
    row["query_ms_p50"] = round(statistics.median(lat), 2) if lat else None
    row["query_ms_p95"] = round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2) if lat else None
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row


def _child(name: str, work: Path, paragraphs: int | None, questions: int) -> dict:
    """measure_one in a fresh interpreter (same environment, so the same QA_BOT_* settings)."""
    args = [sys.executable, "-m", "qa_bot.bench.embedders", name, str(work), str(paragraphs or 0), str(questions)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    t0 = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"embedder": name, "error": tail}
    row = json.loads(lines[-1])
    row["process_s"] = round(time.perf_counter() - t0, 1)
    return row


def _cells(r: dict) -> Callable[[str], str]:
    """A figure of row `r` with its ratio against MiniLM beside it."""
    ratio = r.get("vs_minilm", {}) if r["embedder"] != NAMES[0] else {}

    def cell(key: str) -> str:
        return f"{r[key]}" + (f" (×{ratio[key]})" if key in ratio else "")

    return cell


def table(rows: list[dict]) -> str:
    head = "| embedder | dim | load s | ingest s (seeds, squad2) | embed s (seeds, squad2) | query ms p50 | size MB | peak RSS MB |"
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['embedder']} | error: {r['error']} |" + " |" * 6)
            continue
        cell = _cells(r)
        lines.append(
            f"| {r['embedder']} | {r['dim']} | {cell('load_s')} | {cell('ingest_seeds_s')}, {cell('ingest_squad2_s')} "
            f"| {r['embed_seeds_s']}, {r['embed_squad2_s']} | {cell('query_ms_p50')} | {cell('size_mb')} "
            f"| {cell('peak_rss_mb')} |"
        )
    return "\n".join(lines)


def bench_embedders(
    s: Settings, out: Path, names: tuple[str, ...] = NAMES, quick: bool = False, echo: Callable[[str], None] = print
) -> dict:
    """Each embedder in turn (never in parallel), MiniLM first; writes OUT/embedders.json and prints a table."""
    out.mkdir(parents=True, exist_ok=True)
    order = [NAMES[0], *(n for n in names if n != NAMES[0])]
    paragraphs, questions = (40, 20) if quick else (None, 100)
    rows = []
    with tempfile.TemporaryDirectory(prefix="qa-bot-bench-embedders-") as tmp:
        for name in order:
            echo(f"[embedders] {name}")
            work = Path(tmp) / name
            work.mkdir()
            rows.append(_child(name, work, paragraphs, questions))
    base = rows[0] if "error" not in rows[0] else None
    for r in rows:
        if base is not None and "error" not in r:
            r["vs_minilm"] = {k: round(r[k] / base[k], 2) for k in RATIO_KEYS if r.get(k) and base.get(k)}
    result = {"meta": {"quick": quick, "cpus": os.cpu_count(), "chunk_size": s.chunk_size,
                       "chunk_overlap": s.chunk_overlap, "batch_size": s.embed_batch_size,
                       "questions": questions, "paragraphs": paragraphs or "all"},
              "embedders": rows}
    (out / "embedders.json").write_text(json.dumps(result, indent=2))
    echo(table(rows))
    return result


if __name__ == "__main__":  # the child process of _child: one embedder, one JSON line on stdout
    from qa_bot.settings import load_settings

    _name, _work, _paras, _qs = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure_one(load_settings(), _name, _work, _paras or None, _qs)), flush=True)
