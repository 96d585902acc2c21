"""The `qa-bot` command. Heavy imports stay inside commands so `qa-bot --help` is instant."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

index_option = click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None, help="Index folder (default: index/).")


def _settings(**overrides):
    from pydantic import ValidationError

    from qa_bot.settings import load_settings

    try:
        return load_settings(**overrides)
    except ValidationError as e:
        raise SetupError(f"invalid setting: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}") from None


class SetupError(click.ClickException):
    """A usage or setup problem: exit status 2 (1 is kept for "ran, and a check failed")."""

    exit_code = 2


def _guard(fn):
    """Domain errors become one-line messages with exit status 2, never tracebacks."""
    import functools

    @functools.wraps(fn)
    def wrapper(*a, **kw):
        from qa_bot.errors import QaBotError

        try:
            return fn(*a, **kw)
        except QaBotError as e:
            raise SetupError(str(e)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """qa-bot: answers from your documents, every claim cited and checked."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Drop the index and rebuild it (needed after changing embedder or chunking).")
@click.option("--watch", is_flag=True, help="Keep the index in step with the folder(s) until stopped.")
@_guard
def ingest(paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool, watch: bool) -> None:
    """Add, update and remove documents (files or folders; default seeds/)."""
    from qa_bot.factory import build_ingestor

    s = _settings(index_dir=index_dir)
    targets = list(paths) or [Path(s.seeds_dir)]
    ing = build_ingestor(s)
    report = ing.run(targets, rebuild=rebuild)
    _print_report(report)
    if watch:
        from qa_bot.ingest.watch import watch_folders

        watch_folders(ing, targets, _print_report)
    if report.failed:
        sys.exit(1)


def _print_report(report) -> None:
    for path, reason in report.failed:
        click.echo(f"failed: {path}: {reason}", err=True)
    click.echo(report.summary())


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer object as JSON.")
@index_option
@click.option("--llm", "llm_provider", type=click.Choice(["llama_cpp", "openai", "extractive"]), default=None, help="Answer backend.")
@click.option("--model", "llm_model", default=None, help="Model name or GGUF path.")
@click.option("--top-k", "top_k", type=int, default=None, help="Passages given to the model.")
@_guard
def ask(question: str, as_json: bool, index_dir, llm_provider, llm_model, top_k) -> None:
    """One cited answer."""
    from qa_bot.errors import BadQuestionError

    if not question.strip():
        raise BadQuestionError("the question is empty")
    from qa_bot.errors import EmptyIndexError
    from qa_bot.schema import Answer
    from qa_bot.startup import open_bot, read_ahead

    s = _settings(index_dir=index_dir, llm_provider=llm_provider, llm_model=llm_model, top_k=top_k)
    try:
        bot = open_bot(s)
    except EmptyIndexError as e:
        if as_json:  # scripts read stdout: a machine-readable error, never a refusal
            click.echo(json.dumps({"error": {"type": "empty_index", "message": str(e)}}))
        raise
    read_ahead(bot, question=question)
    live = not as_json and sys.stderr.isatty()
    ans = None
    for ev in bot.stream(question):
        if isinstance(ev, Answer):
            ans = ev
        elif live:
            click.echo(ev, nl=False, err=True)
    if live:
        click.echo("\n", err=True)
    assert ans is not None
    if as_json:
        click.echo(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_answer(ans))


def format_answer(ans) -> str:
    lines = [ans.answer]
    if ans.notice:
        lines.append(f"({ans.notice})")
    for c in ans.citations:
        lines.append(f"[{c.marker}] {c.title} ({c.source}, chars {c.start}-{c.end}): \"{c.quote}\"")
    return "\n".join(lines)


@main.command()
@index_option
@_guard
def chat(index_dir) -> None:
    """A terminal conversation; follow-ups understand earlier turns."""
    from qa_bot.bot import Turn
    from qa_bot.errors import QaBotError
    from qa_bot.schema import Answer
    from qa_bot.startup import open_bot, read_ahead

    bot = open_bot(_settings(index_dir=index_dir))
    read_ahead(bot)
    history: list[Turn] = []
    click.echo("qa-bot chat: ask about your documents (empty line or Ctrl-D to quit).")
    while True:
        try:
            q = input("you> ")
        except EOFError:
            break
        if not q.strip():
            break
        try:
            read_ahead(bot, question=q)  # when the corpus does not fit: the question's best document
            ans = None
            for ev in bot.stream(q, history):
                if isinstance(ev, Answer):
                    ans = ev
                else:
                    click.echo(ev, nl=False)
            assert ans is not None
            click.echo("\n--- checked ---")
            click.echo(format_answer(ans))
            history.append(Turn(ans.standalone_question, ans.answer))
        except QaBotError as e:
            click.echo(f"error: {e}", err=True)


@main.command()
@click.option("--host", default=None, help="Bind address (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
@index_option
@_guard
def serve(host, port, index_dir) -> None:
    """The web UI, and the OpenAI-compatible API (/v1/chat/completions, /v1/models) on the same port."""
    from qa_bot.server.app import serve as run_ui

    run_ui(_settings(host=host, port=port, index_dir=index_dir))


@main.command(name="eval")
@click.option("--suite", "suites", multiple=True, help="Suite name from eval/suites.toml (default: seeds).")
@click.option("--dataset", type=click.Path(path_type=Path, exists=True), default=None, help="Any JSONL dataset.")
@click.option("--limit", type=int, default=None, help="Ask at most N questions per suite.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("eval-out"), help="Output folder.")
@index_option
@click.option("--llm", "llm_provider", type=click.Choice(["llama_cpp", "openai", "extractive"]), default=None)
@click.option("--model", "llm_model", default=None)
@click.option("--no-gate", is_flag=True, help="Report only; exit 0 even if a gate fails.")
@click.option("--update-baseline", is_flag=True, help="Write this run's metrics to eval/baseline.json.")
@click.option("--junit", type=click.Path(path_type=Path), default=None, help="Also write JUnit XML (one test case per question) here.")
@click.option("--replay", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
              help="An earlier run's --out folder: its recorded drafts stand in for the model (re-check in seconds).")
@_guard
def eval_cmd(suites, dataset, limit, out, index_dir, llm_provider, llm_model, no_gate, update_baseline, junit,
             replay) -> None:
    """Run eval suites (or any dataset) and gate on thresholds and the baseline.

    Exit status: 0 every gate passed, 1 a gate failed, 2 a usage or setup error.
    """
    from qa_bot.evaluation.runner import run_eval

    s = _settings(index_dir=index_dir, llm_provider=llm_provider, llm_model=llm_model)
    ok = run_eval(s, list(suites), dataset, limit, out, update_baseline=update_baseline, echo=click.echo, junit=junit,
                  replay=replay)
    if not ok and not no_gate:
        sys.exit(1)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("bench-out"), help="Output folder.")
@click.option("--quick", is_flag=True, help="Smaller sizes and fewer questions (for tests).")
@click.option("--chroma-url", default=None, help="Also run the retrieval part against this Chroma server (`chroma run`).")
@click.option("--from-zero", is_flag=True,
              help="Instead: time a fresh clone of this checkout to the first UI answer (install, index, model, serve, "
                   "answer); writes OUT/from_zero.json.")
@click.option("--cold-cache", is_flag=True, help="With --from-zero: install with an empty pip cache of its own.")
@click.option("--embedders", is_flag=True,
              help="Instead: load, ingest and query-latency cost of MiniLM, all-mpnet-base-v2 and embeddinggemma-300m "
                   "(`make embedders` first), with ratios against MiniLM; writes OUT/embedders.json.")
@_guard
def bench(out: Path, quick: bool, chroma_url: str | None, from_zero: bool, cold_cache: bool, embedders: bool) -> None:
    """Performance benchmark; writes OUT/bench.json."""
    if embedders:
        from qa_bot.bench.embedders import bench_embedders

        bench_embedders(_settings(), out, quick=quick, echo=click.echo)
        return
    if from_zero:
        from qa_bot.bench.from_zero import bench_from_zero

        root = Path(__file__).resolve().parents[1]  # the checkout; CI keeps ../shared beside it
        bench_from_zero(root, root.parent / "shared", out, cold_cache=cold_cache, echo=click.echo)
        return
    from qa_bot.bench.run import run_bench

    run_bench(_settings(chroma_url=chroma_url), out, quick=quick, echo=click.echo)


if __name__ == "__main__":
    main()
