"""`qa-bot eval`: run suites (or any dataset) through the bot, score them, write the outputs, gate.

Suites and their thresholds live in eval/suites.toml, the last accepted metrics in eval/baseline.json.
"""

from __future__ import annotations

import json
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_bot.bot import Bot
from qa_bot.errors import IndexMismatchError, QaBotError
from qa_bot.evaluation.dataset import Item, episodes, limit_episodes, load_dataset
from qa_bot.evaluation.junit import write_junit
from qa_bot.evaluation.metrics import ANSWERABLE_METRICS, RATE_METRICS, aggregate
from qa_bot.evaluation.report import metrics_table, plot, render_report
from qa_bot.evaluation.scoring import SourceResolver, ask_episode, score
from qa_bot.settings import Settings

Echo = Callable[[str], None]


def find_eval_dir() -> Path:
    """eval/ of the working directory, else of the source checkout this package runs from."""
    here = Path("eval")
    return here if (here / "suites.toml").is_file() else Path(__file__).resolve().parents[2] / "eval"


def load_config(eval_dir: Path) -> dict:
    path = eval_dir / "suites.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise QaBotError(f"cannot read {path}: {e}") from None


def suite_config(cfg: dict, name: str | None) -> dict:
    """The suite's table over the [default] table (thresholds merged key by key)."""
    default = cfg.get("default", {})
    own = cfg.get(name, {}) if name else {}
    merged = {**default, **own}
    merged["thresholds"] = {**default.get("thresholds", {}), **own.get("thresholds", {})}
    return merged


@dataclass
class Target:
    """One index and the bot built on it (built once, shared by the suites that use that index)."""

    settings: Settings
    bot: Bot
    resolver: SourceResolver


class Runner:
    def __init__(self, settings: Settings, eval_dir: Path, echo: Echo, replay: Path | None = None):
        self.settings, self.eval_dir, self.echo, self.replay = settings, eval_dir, echo, replay
        self.targets: dict[str, Target] = {}
        self._llm: object = "unset"
        self._judge: object = "unset"

    def llm(self):
        if self._llm == "unset":  # the model loads once, whatever the number of indexes
            from qa_bot.factory import build_llm

            self._llm = build_llm(self.settings)
            if self.replay is not None:  # the recorded drafts, not the model's (see evaluation/replay.py)
                from qa_bot.evaluation.replay import ReplayModel

                self._llm = ReplayModel(self.replay, self._llm)
        return self._llm

    def judge(self):
        """The optional report-only judge (None when `judge_provider` is empty); the answering model is reused
        when the judge names the same one."""
        if self._judge == "unset":
            s = self.settings
            if not s.judge_provider:
                self._judge = None
            else:
                from qa_bot.evaluation.judge import Judge
                from qa_bot.factory import build_llm

                model = s.judge_model or s.llm_model
                same = s.judge_provider == s.llm_provider and model == s.llm_model and not s.judge_base_url
                llm = self.llm() if same else build_llm(s.model_copy(update={
                    "llm_provider": s.judge_provider, "llm_model": model,
                    "llm_base_url": s.judge_base_url or s.llm_base_url, "temperature": 0.0}))
                self._judge = Judge(llm)
        return self._judge

    def target(self, s: Settings, corpus: Path | None, read_ahead: bool = True, owned: bool = False) -> Target:
        """The bot a suite asks, over `s.index_dir`: `corpus` is ingested when that index is empty, or every
        time when the suite `owned` it (a benchmark's cache: a changed pick of look-alike questions removes
        other gold paragraphs, and a stale index would still hold them)."""
        key = str(Path(s.index_dir).resolve())
        if key in self.targets:
            return self.targets[key]
        from qa_bot.factory import build_bot, build_embedder, build_ingestor, build_store
        from qa_bot.ingest.manifest import Manifest

        embedder, store = build_embedder(s), build_store(s)
        manifest = Manifest.load(Path(s.index_dir) / "manifest.json")
        if corpus is not None and (owned or manifest is None or not manifest.sources or store.count() == 0):
            self.echo(f"index {s.index_dir} is empty: ingesting {corpus}" if not owned else
                      f"index {s.index_dir}: in step with {corpus}")
            ing = build_ingestor(s, embedder, store)
            try:
                report = ing.run([corpus], progress=sys.stderr.isatty())
            except IndexMismatchError:  # a cache index built with other settings: ours to rebuild
                report = ing.run([corpus], rebuild=True, progress=sys.stderr.isatty())
            self.echo(report.summary())
        else:
            from qa_bot.startup import ensure_index

            ensure_index(s, embedder, store, echo=self.echo)
        bot = build_bot(s, embedder=embedder, store=store, llm=self.llm())
        # answers are timed as `serve` gives them once it has read ahead (a suite of a few questions over a
        # large corpus may skip it: reading hundreds of passages would cost more than the questions)
        warm = bot.warm() if read_ahead else None
        if warm is not None:
            from qa_bot.llm.read_ahead import describe

            self.echo(describe(warm))
        self.targets[key] = Target(s, bot, SourceResolver(s, store))
        return self.targets[key]


def run_eval(
    settings: Settings, suites: list[str], dataset: Path | None, limit: int | None, out: Path,
    update_baseline: bool = False, echo: Echo = print, eval_dir: Path | None = None, junit: Path | None = None,
    replay: Path | None = None,
) -> bool:
    """Run each suite (default: seeds) and the dataset; True when every gate passed. `replay`: an earlier run's
    --out folder whose recorded drafts stand in for the model (evaluation/replay.py)."""
    if replay is not None and update_baseline:
        from qa_bot.evaluation.replay import ReplayError

        raise ReplayError("--replay re-checks recorded drafts: it cannot write the baseline")
    eval_dir = eval_dir or find_eval_dir()
    cfg = load_config(eval_dir)
    names = expand_suites(cfg, list(suites) or ([] if dataset else ["seeds"]), eval_dir)
    baseline_path = eval_dir / "baseline.json"
    baseline = load_baseline(baseline_path)
    runs: list[tuple[str, dict, Path | None]] = [(n, suite_config(cfg, n), None) for n in names]
    if dataset is not None:
        runs.append((Path(dataset).stem, suite_config(cfg, None), Path(dataset)))
    runner = Runner(settings, eval_dir, echo, replay)
    if replay is not None:
        echo(f"replay: the drafts recorded in {replay} stand in for the model (timings are the checks' own)")
    ok, summaries, all_rows = True, {}, {}
    for name, scfg, path in runs:
        folder = Path(out) if len(runs) == 1 else Path(out) / name
        result = run_suite(runner, name, scfg, path, limit, folder, baseline.get("suites", {}).get(name, {}))
        if result is None:
            continue
        summaries[name], all_rows[name] = result
        ok = ok and summaries[name]["passed"]
        if update_baseline:
            baseline.setdefault("suites", {}).setdefault(name, {})[summaries[name]["model"]] = {
                "metrics": summaries[name]["metrics"],
                "questions": {r["id"]: bool(r["eval"]["passed"]) for r in all_rows[name]},
            }
    missing = getattr(runner._llm, "missing", None)
    if missing:
        echo(f"replay: {len(missing)} questions had no recorded draft (answered with nothing), e.g. {missing[0]!r}")
    if len(summaries) > 1:
        (Path(out) / "summary.json").write_text(json.dumps({"suites": summaries}, indent=2), encoding="utf-8")
    if junit is not None:
        write_junit(junit, summaries, all_rows)
        echo(f"JUnit XML: {junit}")
    if update_baseline and summaries:
        if limit is not None:
            echo("not updating the baseline from a --limit run")
        else:
            baseline_path.write_text(json.dumps(baseline, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            echo(f"baseline written: {baseline_path} ({', '.join(summaries)})")
    return ok


def expand_suites(cfg: dict, names: list[str], eval_dir: Path) -> list[str]:
    """Suite names with groups (`suites = [...]`, e.g. seeds = dev + test) replaced by their members."""
    out: list[str] = []
    for n in names:
        if n not in cfg or n == "default":
            known = ", ".join(k for k in cfg if k != "default") or "none"
            raise QaBotError(f"unknown suite '{n}' (suites in {eval_dir / 'suites.toml'}: {known})")
        out += expand_suites(cfg, list(cfg[n]["suites"]), eval_dir) if "suites" in cfg[n] else [n]
    return list(dict.fromkeys(out))


def load_baseline(path: Path) -> dict:
    """eval/baseline.json: {"suites": {name: {model: {"metrics", "questions": {id: passed}}}}}; {} when absent."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise QaBotError(f"cannot read the baseline {path}: {e}") from None


def prepare(runner: Runner, name: str, cfg: dict, path: Path | None) -> tuple[list[Item], Target] | None:
    """The suite's questions and the index they run against (building it when the suite owns one)."""
    s, root = runner.settings, runner.eval_dir.parent
    if cfg.get("benchmark"):
        from qa_bot.evaluation.squad2 import distractor_split, load_squad2, write_corpus

        folder = Path(s.benchmarks) / cfg["benchmark"]
        if not folder.is_dir():
            runner.echo(f"[{name}] skipped: benchmark data {folder} not found (set QA_BOT_BENCHMARKS)")
            return None
        items, paragraphs = load_squad2(folder)
        corpus_name = cfg["benchmark"]
        if cfg.get("distractor"):  # look-alikes: the picked questions' gold paragraphs removed, or kept
            removed = cfg["distractor"] == "removed"
            items, paragraphs = distractor_split(items, paragraphs, int(cfg.get("questions", 12)), removed)
            corpus_name = f"{corpus_name}-distractor" if removed else corpus_name
        cache = write_corpus(paragraphs, Path(s.data_dir) / f"{corpus_name}-corpus")
        sub = s.model_copy(update={"index_dir": Path(s.data_dir) / f"{corpus_name}-index"})
        return items, runner.target(sub, cache, bool(cfg.get("read_ahead", True)), owned=True)
    if path is None:
        if not cfg.get("dataset"):
            raise QaBotError(f"suite '{name}' names no dataset in suites.toml")
        path = root / cfg["dataset"]
        if not path.is_file():
            raise QaBotError(f"suite '{name}': dataset {path} not found")
    corpus = root / cfg["corpus"] if cfg.get("corpus") else None
    return load_dataset(path), runner.target(s, corpus, bool(cfg.get("read_ahead", True)))


def run_suite(
    runner: Runner, name: str, cfg: dict, path: Path | None, limit: int | None, out: Path, bases: dict
) -> tuple[dict, list[dict]] | None:
    """One suite: ask, score, write outputs, gate against thresholds and this model's baseline."""
    echo = runner.echo
    prepared = prepare(runner, name, cfg, path)
    if prepared is None:
        return None
    items, target = prepared
    base = bases.get(target.bot.model_name)
    eps = limit_episodes(episodes(items), limit)
    total = sum(len(e) for e in eps)
    echo(f"[{name}] {total} questions against {target.settings.index_dir} with {target.bot.model_name}")
    rows: list[dict] = []
    t0 = time.perf_counter()
    bar = _bar(total)
    judge = runner.judge()
    for ep in eps:
        for item, run in ask_episode(target.bot, ep):
            row = score(item, run, target.resolver)
            if judge is not None and run.answer is not None:
                row["eval"]["judge"] = judge(run.answer)
            rows.append(row)
            _progress(echo, bar, rows, total)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    metrics = aggregate([r["eval"] for r in rows])
    counts = target.bot.llm is not None and target.bot.llm.count_tokens("a") is not None
    summary: dict = {
        "suite": name, "dataset": str(path or cfg.get("dataset") or cfg.get("benchmark")),
        "model": target.bot.model_name, "embed_model": target.settings.embed_model,
        "index": str(target.settings.index_dir), "k": target.bot.retriever.top_k, "limit": limit,
        "seconds": round(seconds, 2), "token_unit": "model tokens" if counts else "generated text pieces",
        "metrics": metrics,
    }
    gates = check_gates(metrics, cfg, base, target.bot.model_name, rows, limit)
    summary["gates"], summary["passed"] = gates, all(g["ok"] for g in gates)
    write_outputs(out, summary, rows, base, gates)
    echo(metrics_table(metrics, base["metrics"] if base else None))
    for g in gates:
        if not g["ok"]:
            echo(f"GATE FAILED [{name}] {g['detail']}")
    echo(f"[{name}] {'passed' if summary['passed'] else 'FAILED'} in {seconds:.1f} s; outputs in {out}")
    return summary, rows


# the questions a rate metric is averaged over: with none of them it does not apply
_DENOMINATOR = {"refused_rate": "unanswerable", "independent_support": "answers",
                **{m: "answerable" for m in ANSWERABLE_METRICS}}


def check_gates(metrics: dict, cfg: dict, base: dict | None, model: str, rows: list[dict], limit: int | None) -> list[dict]:
    """Thresholds (`min_<metric>` / `max_<metric>`) and drops beyond `tolerance` from the baseline.

    A gated metric that could not be measured fails, unless the dataset has none of the questions it is
    averaged over (a refusal rate on a file without unanswerable questions). Under `--limit` the run is
    compared with the baseline's own results for the same question ids.
    """
    gates = []
    for key, bound in cfg.get("thresholds", {}).items():
        kind, _, metric = key.partition("_")
        if kind not in ("min", "max") or metric not in metrics:
            raise QaBotError(f"suites.toml: unknown threshold '{key}' (use min_<metric> or max_<metric>)")
        value = metrics[metric]
        if value is None:
            need = _DENOMINATOR.get(metric)
            if need and not metrics.get(need):
                gates.append({"name": metric, "ok": True, "detail": f"{metric}: not applied, no {need}"
                              + ("" if need == "answers" else " questions")})
            else:
                gates.append({"name": metric, "ok": False,
                              "detail": f"{metric}: could not be measured ({_why_none(metric)}), {key} {bound:g} not met"})
            continue
        ok = value >= bound if kind == "min" else value <= bound
        sign = (">=" if ok else "<") if kind == "min" else ("<=" if ok else ">")
        gates.append({"name": metric, "ok": ok, "detail": f"{metric} {value:g} {sign} {kind} {bound:g}"})
    if base is None:
        gates.append({"name": "baseline", "ok": True,
                      "detail": f"no baseline for model {model} (record one with --update-baseline): drops not gated"})
    elif limit is None:
        for metric in RATE_METRICS:
            old, new = base.get("metrics", {}).get(metric), metrics.get(metric)
            if old is None or new is None:
                continue
            tol = drop_tolerance(metric, metrics, cfg)
            ok = new >= old - tol - 1e-9
            gates.append({"name": metric, "ok": ok,
                          "detail": f"{metric} {'dropped' if new < old else 'kept'} {old:g} -> {new:g} (tolerance {tol:.3g})"})
    else:
        gates.append(same_questions_gate(rows, base.get("questions", {}), cfg))
    return gates


def _why_none(metric: str) -> str:
    if metric in ("correctness", "contains_gold", "exact_match", "f1"):
        return "no answerable question carries must_include or answers"
    if metric in ("hit_at_k", "recall_at_k", "mrr"):
        return "no question names its evidence or doc"
    if metric == "independent_support":
        return "no answer had a sentence to check"
    return "no question to average over"


def same_questions_gate(rows: list[dict], base_questions: dict[str, bool], cfg: dict) -> dict:
    """Pass rate of a --limit run against the baseline's results for the same question ids."""
    common = [r for r in rows if r["id"] in base_questions]
    if not common:
        return {"name": "pass_rate", "ok": False, "detail": "no question of this run is in the baseline: nothing to compare"}
    old = sum(base_questions[r["id"]] for r in common) / len(common)
    new = sum(bool(r["eval"]["passed"]) for r in common) / len(common)
    tol = max(float(cfg.get("tolerance", 0.05)), float(cfg.get("noise_items", 2)) / len(common))
    ok = new >= old - tol - 1e-9
    return {"name": "pass_rate", "ok": ok, "detail": f"pass_rate on the baseline's {len(common)} same questions "
            f"{'dropped' if new < old else 'kept'} {old:.3g} -> {new:.3g} (tolerance {tol:.3g})"}


def drop_tolerance(metric: str, metrics: dict, cfg: dict) -> float:
    """The drop from the baseline a gate allows: `tolerance`, but never less than `noise_items`
    questions' worth of the metric's denominator, because a small local model flips a question or
    two between runs (llama.cpp's prompt-cache reuse changes float sums) and on 19 unanswerable
    questions one flip alone is 0.053."""
    tol = float(cfg.get("tolerance", 0.05))
    items = float(cfg.get("noise_items", 2))
    key = {"refused_rate": "unanswerable"}.get(metric, "answerable" if metric in ANSWERABLE_METRICS else "questions")
    n = metrics.get(key) or metrics.get("questions") or 0
    return max(tol, items / n) if n else tol


def write_outputs(out: Path, summary: dict, rows: list[dict], base: dict | None, gates: list[dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "report.md").write_text(render_report(summary, rows, base, gates), encoding="utf-8")
    plot(summary["metrics"], base["metrics"] if base else None, out / "metrics.png", f"{summary['suite']} vs baseline")


def _bar(total: int):
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="q", file=sys.stderr)


def _progress(echo: Echo, bar, rows: list[dict], total: int) -> None:
    """The bar (a terminal) carries the running counts; a log gets one line per question."""
    i, row = len(rows), rows[-1]
    flags = row["eval"]
    if bar is not None:
        bar.update(1)
        bar.set_postfix(right=sum(1 for r in rows if r["eval"].get("correct")),
                        refused=sum(1 for r in rows if r["eval"].get("refused")), refresh=False)
        return
    status = "ok  " if flags["passed"] else "FAIL"
    echo(f"  {i:>3}/{total} {status} {row['id']:<12} {flags.get('total_ms') or 0:>7.0f} ms  {row['question'][:70]}")
