"""What every surface does before its first question, in one place (CLI `ask`/`chat`/`eval`, `serve`).

An empty index is filled or named, never answered: the seeds go into the default index on first use
(`serve`: into any empty index, since documents can also be uploaded there). Then the model reads
ahead what questions will start with: the CLI waits for it, `serve` does it in the background."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from qa_bot.errors import EmptyIndexError
from qa_bot.settings import Settings


def is_default_index(s: Settings) -> bool:
    default = Settings.model_fields["index_dir"].default
    return Path(s.index_dir).resolve() == Path(default).resolve()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_index(s: Settings, embedder, store, echo: Callable[[str], None] | None = None, *,
                 serving: bool = False) -> None:
    """Return when the index holds chunks; ingest `seeds_dir` into an empty default index (said on
    stderr, with a progress bar); otherwise raise EmptyIndexError naming the folder and the fix.
    `serving`: any empty index gets the seeds, and an index left empty is allowed (uploads fill it)."""
    if store.count() > 0:
        return
    say = echo or _stderr
    seeds = Path(s.seeds_dir)
    if (serving or is_default_index(s)) and seeds.is_dir():
        from qa_bot.factory import build_ingestor

        say(f"index {s.index_dir} is empty: ingesting {seeds} first")
        report = build_ingestor(s, embedder, store).run([seeds], progress=sys.stderr.isatty())
        say(report.summary())
        if store.count() > 0:
            return
    if serving:
        return
    raise EmptyIndexError(
        f"the index {Path(s.index_dir).resolve()} is empty: add documents with "
        f"`qa-bot ingest PATH --index {s.index_dir}`"
    )


def open_bot(s: Settings, *, serving: bool = False, echo: Callable[[str], None] | None = None):
    """The bot over an index that holds documents (see ensure_index), with its ingestor for `serve`."""
    from qa_bot.factory import build_bot, build_embedder, build_store

    embedder, store = build_embedder(s), build_store(s)
    ensure_index(s, embedder, store, echo, serving=serving)
    return build_bot(s, embedder=embedder, store=store)


def read_ahead(bot, echo: Callable[[str], None] | None = None, question: str = "") -> None:
    """The prefix a question starts with, once per corpus and model, before it is answered (said on stderr):
    the whole-document prefix, or when the corpus does not fit, the prefix of the `question`'s best document."""
    say = echo or _stderr
    plan, retrieval = bot.plan(), None
    if question and plan.mode == "passages" and not plan.pending:  # the corpus does not fit: the question's document
        retrieval = bot.retriever.retrieve(question)  # retrieved once, for plan and read
        plan = bot.plan(retrieval)
    if plan.pending:
        from qa_bot.progress import ticker

        say("reading the documents ahead, once for this corpus and model...")
        with ticker("reading the documents"):
            report = bot.read_documents_ahead(retrieval)
        if report:
            say(f"read in {report['seconds']} s ({report['mb']} MB kept in the index)")


def read_ahead_in_background(bot, echo: Callable[[str], None] = print):
    """`serve`: the prefix or passages are read on a thread; call `.request()` again after changes.
    The prefix is read in a second context, so questions meanwhile are answered from passages at once."""
    from qa_bot.llm.read_ahead import BackgroundWarmer

    warmer = BackgroundWarmer(bot.warm, echo)
    warmer.request()
    return warmer
