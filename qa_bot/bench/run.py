"""`qa-bot bench`: every stage against the raw library it wraps, in one run; writes bench.json and bench.md.

Stages (one function each here, the measuring in qa_bot/bench/*.py): start-up in fresh processes, ingest throughput, retrieval at
1k/10k/100k chunks, generation, and a plain LlamaIndex pipeline as the baseline. Everything is built
in a temporary folder, so a fresh clone needs nothing but `make install`. The full run keeps to a
time budget (about 19 minutes on two cores) by asking fewer questions when the machine is slow.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa_bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FULL_SIZES = {"1000": 1000, "10000": 10000, "100000": 100000}
# --quick keeps the interface keys but measures smaller collections (each row records its real size).
QUICK_SIZES = {"1000": 1000, "10000": 2000, "100000": 3000}
SERVER_MAX = 10000  # corpus sizes sent to a Chroma server over HTTP are capped to stay in the time budget


def _rss_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return round(me, 1), round(kids, 1)


def _seeds_dir(s: Settings) -> Path:
    d = Path(s.seeds_dir)
    return d if d.is_dir() else ROOT / "seeds"


@dataclass
class BenchRun:
    """What the stages share: settings, the temporary folder, the questions and paragraphs, the figures."""

    settings: Settings  # as the user gave them (the Chroma server URL, if any)
    s: Settings  # the bench's own: the embedded default LLM
    quick: bool
    echo: Callable[[str], None]
    work: Path
    seeds: Path
    result: dict
    t_start: float = field(default_factory=time.monotonic)
    budget: float = 1140.0
    embedder: Any = None
    s_seeds: Any = None
    questions: list[dict] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    squad_questions: list[str] = field(default_factory=list)
    shared: dict = field(default_factory=dict)  # generation hands its bot to the baseline


def run_bench(settings: Settings, out: Path, quick: bool = False, echo=print) -> dict:
    """Every stage in turn; a stage that fails is recorded and the others still run."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = _bench_settings(settings, quick)
    r = BenchRun(settings, s, quick, echo, Path(tempfile.mkdtemp(prefix="qa-bot-bench-")), _seeds_dir(s), {"meta": {
        "quick": quick, "cpus": os.cpu_count(), "llm_model": s.llm_model, "max_tokens": s.max_tokens,
        "embed_model": s.embed_model, "threads": s.threads(),
    }}, budget=240.0 if quick else 1140.0)
    try:
        _prepare(r)
        for name, fn in (("start-up", _startup), ("ingest", _ingest), ("retrieval", _retrieval),
                         ("generation", _generation), ("baseline", _baseline)):
            if name == "baseline" and "bot" not in r.shared:
                continue
            _stage(r, out, name, fn)
        _finish(r, out)
        return r.result
    finally:
        shutil.rmtree(r.work, ignore_errors=True)


def _save(r: BenchRun, out: Path) -> None:
    r.result["meta"]["wall_s"] = round(time.monotonic() - r.t_start, 1)
    (out / "bench.json").write_text(json.dumps(r.result, indent=2, ensure_ascii=False))


def _stage(r: BenchRun, out: Path, name: str, fn: Callable[[BenchRun], None]) -> None:
    r.echo(f"[{time.monotonic() - r.t_start:6.0f} s] {name}")
    try:
        fn(r)
    except Exception as e:  # one broken stage must not lose the others' figures
        r.result.setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"
        r.echo(f"  {name} failed: {type(e).__name__}: {e}")
        r.echo(traceback.format_exc(limit=6))
    _save(r, out)


def _prepare(r: BenchRun) -> None:
    """The embedder, the seeds index, the questions and the paragraphs every stage draws on."""
    from qa_bot.bench.corpus import fallback_paragraphs, seed_questions
    from qa_bot.evaluation.dataset import DatasetError
    from qa_bot.evaluation.squad2 import load_squad2
    from qa_bot.factory import build_embedder, build_ingestor

    r.embedder = build_embedder(r.s)
    r.embedder.embed(["warm up"])
    r.s_seeds = r.s.model_copy(update={"index_dir": r.work / "seeds-index", "data_dir": r.work / "data", "chroma_url": ""})
    build_ingestor(r.s_seeds, embedder=r.embedder).run([r.seeds], progress=False)
    r.questions, r.result["meta"]["questions_from"] = seed_questions(ROOT)
    try:
        items, paragraphs = load_squad2(Path(r.s.benchmarks) / "squad2")
    except DatasetError:
        items, paragraphs = [], {}
    r.squad_questions = list(dict.fromkeys(i.question for i in items))
    r.paragraphs = list(paragraphs.values()) or fallback_paragraphs(r.seeds)
    r.result["meta"]["corpus_from"] = "SQuAD 2.0 sample" if paragraphs else "seed paragraphs (SQuAD sample not found)"


def _startup(r: BenchRun) -> None:
    from qa_bot.bench.startup import bench_startup

    env = {"QA_BOT_LLM_PROVIDER": "llama_cpp", "QA_BOT_LLM_MODEL": r.s.llm_model, "QA_BOT_MAX_TOKENS": str(r.s.max_tokens)}
    r.result["startup"] = bench_startup(
        r.s_seeds.index_dir, r.work / "data-startup", env, r.questions[0]["question"], help_runs=2 if r.quick else 3,
        echo=r.echo,
    )


def _ingest(r: BenchRun) -> None:
    from qa_bot.bench.corpus import write_paragraphs
    from qa_bot.bench.ingest import bench_ingest, raw_encoder

    corpus = r.work / "ingest-corpus"
    write_paragraphs(r.paragraphs[: 40 if r.quick else len(r.paragraphs)], corpus)
    for f in r.seeds.iterdir():
        if f.is_file():
            shutil.copy(f, corpus / f.name)
    raw = raw_encoder(r.s)
    res = bench_ingest(r.s, r.embedder, raw, [corpus], r.work)
    del raw
    r.result["ingest"] = res
    r.echo(f"  ingest {res['chunks']} chunks: pipeline {res['pipeline_chunks_per_s']}/s, raw encode "
           f"{res['raw_encode_chunks_per_s']}/s, ratio {res['ratio']}; unchanged re-ingest {res['reingest_unchanged_s']} s")


def _retrieval(r: BenchRun) -> None:
    from qa_bot.bench.corpus import make_corpus
    from qa_bot.bench.retrieval import bench_sizes
    from qa_bot.retrieval.store import make_client

    s, sizes = r.s, QUICK_SIZES if r.quick else FULL_SIZES
    t0 = time.perf_counter()
    corpus = make_corpus(r.paragraphs[:60] if r.quick else r.paragraphs, r.embedder, max(sizes.values()))
    gen_s = time.perf_counter() - t0
    qs = (r.squad_questions or [q["question"] for q in r.questions])[: 30 if r.quick else 100]
    qvecs = r.embedder.embed(qs)
    r.echo(f"  corpus: {len(corpus.chunks)} chunks varied from {corpus.base_sentences} sentences of "
           f"{corpus.base_paragraphs} paragraphs in {gen_s:.0f} s; {len(qs)} queries")
    client = make_client(r.work / "retrieval-chroma")
    r.result["retrieval"] = bench_sizes(client, corpus, sizes, qs, qvecs, r.embedder, top_k=s.top_k, k=s.candidates,
                                        echo=r.echo)
    r.result["retrieval_corpus"] = {
        "generator": "SQuAD paragraph sentences shuffled and recombined (2-5 of one paragraph, half with one "
                     "sentence from another); vectors = normalised mean of the sentences' MiniLM vectors + "
                     "N(0, 0.01) noise, each base sentence embedded once",
        "base_sentences": corpus.base_sentences, "queries": len(qs), "k": s.candidates,
        "store": "embedded chromadb PersistentClient (temporary folder)",
    }
    if r.settings.chroma_url:
        server = make_client(r.work, r.settings.chroma_url)
        capped = {k: v for k, v in sizes.items() if v <= SERVER_MAX}
        r.echo(f"  against the Chroma server at {r.settings.chroma_url}")
        r.result["retrieval_server"] = {
            "url": r.settings.chroma_url,
            **bench_sizes(server, corpus, capped, qs, qvecs, r.embedder, collection="qa_bot_bench_server",
                          top_k=s.top_k, k=s.candidates, echo=r.echo),
        }


def _generation(r: BenchRun) -> None:
    """Document mode against raw llama.cpp, then the same questions from passages, side by side."""
    from qa_bot.bench.generation import bench_generation, raw_llama
    from qa_bot.factory import build_bot, build_llm
    from qa_bot.llm.gguf import resolve_gguf

    s, quick = r.s, r.quick
    llm = build_llm(s)
    bot = build_bot(r.s_seeds, embedder=r.embedder, llm=llm)
    warm = bot.warm()  # as `serve` does at start; reported, not timed with the answers
    r.echo(f"  read ahead: {warm}")
    if llm.cache is not None:
        llm.cache.hits = llm.cache.reused_tokens = 0  # count the questions' resumes, not the read-ahead's
    raw = raw_llama(resolve_gguf(s.llm_model, Path(s.model_cache)), s.n_ctx, s.threads())
    remaining = r.t_start + r.budget - time.monotonic()
    deadline = time.monotonic() + max(30.0, remaining - (60 if quick else 240))
    gen, rows = bench_generation(
        bot, raw, r.questions[: 3 if quick else 30], ratio_questions=3 if quick else 8, deadline=deadline, echo=r.echo
    )
    r.result["generation"] = {**gen, "warm": warm, "mode": rows[0]["mode"] if rows else ""}
    r.result["generation_rows"] = rows
    pbot = build_bot(r.s_seeds.model_copy(update={"context_tokens": 0}), embedder=r.embedder, llm=llm)
    pwarm = pbot.warm()
    r.echo(f"  passage mode, read ahead: {pwarm}")
    pgen, prows = bench_generation(pbot, raw, r.questions[: 3 if quick else 20], ratio_questions=0,
                                   deadline=time.monotonic() + (60 if quick else 300), echo=r.echo)
    del raw
    r.result["generation_passages"] = {k: pgen[k] for k in (
        "questions", "correct", "prompt_tokens_p50", "first_token_p50_s", "first_token_p95_s", "answer_p50_s",
        "answer_p95_s") if k in pgen} | {"warm": pwarm}
    r.result["generation_passages_rows"] = prows
    r.shared.update(bot=bot, llm=llm, rows=rows)


def _baseline(r: BenchRun) -> None:
    from qa_bot.bench.baseline import bench_baseline

    bot, rows, n = r.shared["bot"], r.shared["rows"], 2 if r.quick else 5
    r.result["baseline"] = bench_baseline(
        bot.retriever.store.client, r.seeds, r.embedder, r.shared["llm"], r.s.n_ctx, r.s.max_tokens, r.questions[:n],
        rows[:n], deadline=r.t_start + r.budget - 20, echo=r.echo,
    )


def _finish(r: BenchRun, out: Path) -> None:
    me, kids = _rss_mb()
    r.result["memory"] = {"peak_rss_mb": max(me, kids), "bench_process_peak_rss_mb": me, "children_peak_rss_mb": kids,
                          "note": "the bench process holds two embedders, two llama.cpp instances and a 100k corpus; "
                                  "startup.ask_peak_rss_mb is one `qa-bot ask` process"}
    r.result["targets"] = targets(r.result)
    _save(r, out)
    table = markdown(r.result)
    (out / "bench.md").write_text(table + "\n")
    r.echo("")
    r.echo(table)
    r.echo(f"\nbench: {r.result['meta']['wall_s']} s; wrote {out / 'bench.json'} and {out / 'bench.md'}")


def _bench_settings(settings: Settings, quick: bool) -> Settings:
    """The embedded default LLM (the raw comparison is against llama.cpp); --quick uses the 0.5B model, short answers."""
    update: dict = {"llm_provider": "llama_cpp"}
    if settings.llm_provider != "llama_cpp":
        update["llm_model"] = Settings.model_fields["llm_model"].default
    if quick:
        if update.get("llm_model", settings.llm_model) == Settings.model_fields["llm_model"].default:
            update["llm_model"] = "qwen2.5-coder-0.5b"
        update["max_tokens"] = min(settings.max_tokens, 64)
    return settings.model_copy(update=update)


def _get(d: dict, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def targets(r: dict) -> list[dict]:
    """[{figure, value, target, met}] for the issue's targets; met is None where not measured."""
    quick = r["meta"]["quick"]
    out = []

    def add(figure, value, target, ok):
        out.append({"figure": figure, "value": value, "target": target, "met": None if value is None else ok})

    v = _get(r, "ingest", "ratio")
    add("ingest ratio (pipeline / raw encode)", v, ">= 0.85", v is not None and v >= 0.85)
    v = _get(r, "generation", "ratio")
    add("generation ratio (pipeline / raw llama.cpp)", v, ">= 0.90", v is not None and v >= 0.90)
    for label, limit in (("10000", 50), ("100000", 200)):
        v = _get(r, "retrieval", label, "hybrid_p95_ms")
        n = _get(r, "retrieval", label, "chunks")
        name = f"hybrid p95 at {label} chunks (ms, query given)"
        if quick or n != int(label):
            out.append({"figure": name, "value": v, "target": f"<= {limit} (measured at {n} chunks)", "met": None})
        else:
            add(name, v, f"<= {limit}", v is not None and v <= limit)
    v = _get(r, "generation", "first_token_p50_s")
    add("first token p50 (s)", v, "<= 3", v is not None and v <= 3)
    v = _get(r, "startup", "cli_help_s")
    add("qa-bot --help (s)", v, "<= 1", v is not None and v <= 1)
    b = r.get("baseline") or {}
    if b.get("questions"):
        ours, theirs = b["ours_correct"], b["baseline_correct"]
        add("correct answers: ours vs plain LlamaIndex", f"{ours} vs {theirs} of {b['questions']}", ">= baseline",
            ours >= theirs)
        add("answer time p50 (s): ours vs plain LlamaIndex", f"{b['ours_answer_p50_s']} vs {b['baseline_answer_p50_s']}",
            "< baseline", b["ours_answer_p50_s"] < b["baseline_answer_p50_s"])
    return out


def markdown(r: dict) -> str:
    """figure | value | target | met? — the targets first, then every other figure."""
    lines = ["| figure | value | target | met? |", "|---|---|---|---|"]
    for t in r.get("targets", []):
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['figure']} | {t['value']} | {t['target']} | {met} |")
    for section in ("ingest", "generation", "generation_passages", "startup", "memory"):
        for k, v in (r.get(section) or {}).items():
            if isinstance(v, (int, float, str)) and not isinstance(v, bool) and not k.endswith(("note", "_what")):
                lines.append(f"| {section}.{k} | {v} |  |  |")
    for name in ("retrieval", "retrieval_server"):
        for label, row in (r.get(name) or {}).items():
            if not isinstance(row, dict):
                continue
            g = row.get
            for k in ("dense", "bm25", "hybrid"):
                lines.append(
                    f"| {name} {label} ({g('chunks')} chunks) {k} p50 / p95 ms | {g(f'{k}_p50_ms')} / "
                    f"{g(f'{k}_p95_ms')} (raw {g(f'raw_{k}_p50_ms')} / {g(f'raw_{k}_p95_ms')}) |  |  |"
                )
            lines.append(f"| {name} {label} hybrid incl. query embedding p50 / p95 ms | "
                         f"{g('hybrid_with_embed_p50_ms')} / {g('hybrid_with_embed_p95_ms')} |  |  |")
    b = r.get("baseline") or {}
    for k in ("questions", "chunks", "baseline_answer_mean_s", "ours_answer_mean_s"):
        if k in b:
            lines.append(f"| baseline.{k} | {b[k]} |  |  |")
    for k, v in (r.get("errors") or {}).items():
        lines.append(f"| error in {k} | {v} |  |  |")
    return "\n".join(lines)
