"""`qa-bot bench`: every stage against the raw library it wraps, in one run; writes bench.json and bench.md.

Stages (each in qa_bot/bench_*.py): start-up in fresh processes, ingest throughput, retrieval at
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
from pathlib import Path

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


def run_bench(settings: Settings, out: Path, quick: bool = False, echo=print) -> dict:
    t_start = time.monotonic()
    budget = 240.0 if quick else 1140.0
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="qa-bot-bench-"))
    s = _bench_settings(settings, quick)
    seeds = _seeds_dir(s)
    result: dict = {"meta": {
        "quick": quick, "cpus": os.cpu_count(), "llm_model": s.llm_model, "max_tokens": s.max_tokens,
        "embed_model": s.embed_model, "threads": s.threads(),
    }}

    def save() -> None:
        result["meta"]["wall_s"] = round(time.monotonic() - t_start, 1)
        (out / "bench.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))

    def stage(name: str, fn) -> None:
        echo(f"[{time.monotonic() - t_start:6.0f} s] {name}")
        try:
            fn()
        except Exception as e:  # one broken stage must not lose the others' figures
            result.setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"
            echo(f"  {name} failed: {type(e).__name__}: {e}")
            echo(traceback.format_exc(limit=6))
        save()

    from qa_bot.bench.corpus import fallback_paragraphs, load_squad, seed_questions, squad_paragraphs
    from qa_bot.factory import build_embedder, build_ingestor

    try:
        embedder = build_embedder(s)
        embedder.embed(["warm up"])
        s_seeds = s.model_copy(update={"index_dir": work / "seeds-index", "data_dir": work / "data", "chroma_url": ""})
        build_ingestor(s_seeds, embedder=embedder).run([seeds], progress=False)
        questions, qsource = seed_questions(ROOT)
        result["meta"]["questions_from"] = qsource
        squad = load_squad(Path(s.benchmarks))
        paragraphs = squad_paragraphs(squad) or fallback_paragraphs(seeds)
        result["meta"]["corpus_from"] = "SQuAD 2.0 sample" if squad else "seed paragraphs (SQuAD sample not found)"
        ctx: dict = {}

        def startup() -> None:
            env = {"QA_BOT_LLM_PROVIDER": "llama_cpp", "QA_BOT_LLM_MODEL": s.llm_model, "QA_BOT_MAX_TOKENS": str(s.max_tokens)}
            from qa_bot.bench.startup import bench_startup

            result["startup"] = bench_startup(
                s_seeds.index_dir, work / "data-startup", env, questions[0]["question"], help_runs=2 if quick else 3,
                echo=echo,
            )

        def ingest() -> None:
            from qa_bot.bench.corpus import write_paragraphs
            from qa_bot.bench.ingest import bench_ingest, raw_encoder

            corpus = work / "ingest-corpus"
            write_paragraphs(paragraphs[: 40 if quick else len(paragraphs)], corpus)
            for f in seeds.iterdir():
                if f.is_file():
                    shutil.copy(f, corpus / f.name)
            raw = raw_encoder(s)
            r = bench_ingest(s, embedder, raw, [corpus], work)
            del raw
            result["ingest"] = r
            echo(f"  ingest {r['chunks']} chunks: pipeline {r['pipeline_chunks_per_s']}/s, raw encode "
                 f"{r['raw_encode_chunks_per_s']}/s, ratio {r['ratio']}; unchanged re-ingest {r['reingest_unchanged_s']} s")

        def retrieval() -> None:
            from qa_bot.bench.corpus import make_corpus
            from qa_bot.bench.retrieval import bench_sizes
            from qa_bot.retrieval.store import make_client

            sizes = QUICK_SIZES if quick else FULL_SIZES
            t0 = time.perf_counter()
            corpus = make_corpus(paragraphs[:60] if quick else paragraphs, embedder, max(sizes.values()))
            gen_s = time.perf_counter() - t0
            qs = list(dict.fromkeys(q["question"] for q in squad)) or [q["question"] for q in questions]
            qs = qs[: 30 if quick else 100]
            qvecs = embedder.embed(qs)
            echo(f"  corpus: {len(corpus.chunks)} chunks varied from {corpus.base_sentences} sentences of "
                 f"{corpus.base_paragraphs} paragraphs in {gen_s:.0f} s; {len(qs)} queries")
            client = make_client(work / "retrieval-chroma")
            result["retrieval"] = bench_sizes(client, corpus, sizes, qs, qvecs, embedder, top_k=s.top_k, k=s.candidates, echo=echo)
            result["retrieval_corpus"] = {
                "generator": "SQuAD paragraph sentences shuffled and recombined (2-5 of one paragraph, half with one "
                             "sentence from another); vectors = normalised mean of the sentences' MiniLM vectors + "
                             "N(0, 0.01) noise, each base sentence embedded once",
                "base_sentences": corpus.base_sentences, "queries": len(qs), "k": s.candidates,
                "store": "embedded chromadb PersistentClient (temporary folder)",
            }
            if settings.chroma_url:
                from qa_bot.retrieval.store import make_client as mc

                server = mc(work, settings.chroma_url)
                capped = {k: v for k, v in sizes.items() if v <= SERVER_MAX}
                echo(f"  against the Chroma server at {settings.chroma_url}")
                result["retrieval_server"] = {
                    "url": settings.chroma_url,
                    **bench_sizes(server, corpus, capped, qs, qvecs, embedder, collection="qa_bot_bench_server",
                                  top_k=s.top_k, k=s.candidates, echo=echo),
                }

        def generation() -> None:
            from qa_bot.bench.generation import bench_generation, raw_llama
            from qa_bot.factory import build_bot, build_llm
            from qa_bot.llm.gguf import resolve_gguf

            llm = build_llm(s)
            bot = build_bot(s_seeds, embedder=embedder, llm=llm)
            warm = bot.warm()  # as `serve` does at start; reported, not timed with the answers
            echo(f"  read ahead: {warm}")
            if getattr(llm, "cache", None) is not None:
                llm.cache.hits = llm.cache.reused_tokens = 0  # count the questions' resumes, not the read-ahead's
            raw = raw_llama(resolve_gguf(s.llm_model, Path(s.model_cache)), s.n_ctx, s.threads())
            remaining = t_start + budget - time.monotonic()
            deadline = time.monotonic() + max(30.0, remaining - (60 if quick else 240))
            gen, rows = bench_generation(
                bot, raw, questions[: 3 if quick else 30], ratio_questions=3 if quick else 8, deadline=deadline, echo=echo
            )
            result["generation"] = {**gen, "warm": warm, "mode": rows[0]["mode"] if rows else ""}
            result["generation_rows"] = rows
            # the same questions answered from passages (context_tokens=0), side by side with document mode
            pbot = build_bot(s_seeds.model_copy(update={"context_tokens": 0}), embedder=embedder, llm=llm)
            pwarm = pbot.warm()
            echo(f"  passage mode, read ahead: {pwarm}")
            n = 3 if quick else 20
            pgen, prows = bench_generation(pbot, raw, questions[:n], ratio_questions=0,
                                           deadline=time.monotonic() + (60 if quick else 300), echo=echo)
            del raw
            result["generation_passages"] = {k: pgen[k] for k in (
                "questions", "correct", "prompt_tokens_p50", "first_token_p50_s", "first_token_p95_s", "answer_p50_s",
                "answer_p95_s") if k in pgen} | {"warm": pwarm}
            result["generation_passages_rows"] = prows
            ctx.update(bot=bot, llm=llm, rows=rows)

        def baseline() -> None:
            from qa_bot.bench.generation import bench_baseline

            bot, rows = ctx["bot"], ctx["rows"]
            n = 2 if quick else 5
            result["baseline"] = bench_baseline(
                bot.retriever.store.client, seeds, embedder, ctx["llm"], s.n_ctx, s.max_tokens, questions[:n], rows[:n],
                deadline=t_start + budget - 20, echo=echo,
            )

        stage("start-up", startup)
        stage("ingest", ingest)
        stage("retrieval", retrieval)
        stage("generation", generation)
        if "bot" in ctx:
            stage("baseline", baseline)
        me, kids = _rss_mb()
        result["memory"] = {"peak_rss_mb": max(me, kids), "bench_process_peak_rss_mb": me, "children_peak_rss_mb": kids,
                            "note": "the bench process holds two embedders, two llama.cpp instances and a 100k corpus; "
                                    "startup.ask_peak_rss_mb is one `qa-bot ask` process"}
        result["targets"] = targets(result)
        save()
        table = markdown(result)
        (out / "bench.md").write_text(table + "\n")
        echo("")
        echo(table)
        echo(f"\nbench: {result['meta']['wall_s']} s; wrote {out / 'bench.json'} and {out / 'bench.md'}")
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
