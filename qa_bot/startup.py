"""An empty index is filled or named, never answered: the seeds go into the default index on first use."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from qa_bot.errors import EmptyIndexError
from qa_bot.settings import Settings


def is_default_index(s: Settings) -> bool:
    default = Settings.model_fields["index_dir"].default
    return Path(s.index_dir).resolve() == Path(default).resolve()


def ensure_index(s: Settings, embedder, store, echo: Callable[[str], None] | None = None) -> None:
    """Return when the index holds chunks; ingest `seeds_dir` into an empty default index (said on
    stderr, with a progress bar); otherwise raise EmptyIndexError naming the folder and the fix."""
    if store.count() > 0:
        return
    say = echo or (lambda m: print(m, file=sys.stderr, flush=True))
    seeds = Path(s.seeds_dir)
    if is_default_index(s) and seeds.is_dir():
        from qa_bot.factory import build_ingestor

        say(f"index {s.index_dir} is empty: ingesting {seeds} first")
        report = build_ingestor(s, embedder, store).run([seeds], progress=sys.stderr.isatty())
        say(report.summary())
        if store.count() > 0:
            return
    raise EmptyIndexError(
        f"the index {Path(s.index_dir).resolve()} is empty: add documents with "
        f"`qa-bot ingest PATH --index {s.index_dir}`"
    )
