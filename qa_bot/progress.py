"""Progress a person can see on stderr, and nothing at all when stderr is not a terminal (logs, CI)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator


def shown() -> bool:
    return sys.stderr.isatty()


def byte_bar(total: int, desc: str):
    """A tqdm bar counting bytes (disabled off a terminal); call .update(n) and .close()."""
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, file=sys.stderr,
                disable=not shown(), leave=False)


@contextlib.contextmanager
def ticker(desc: str, every: float = 0.5) -> Iterator[None]:
    """Elapsed seconds beside `desc` while the block runs: for work that reports no steps of its own
    (llama.cpp reading a long prompt)."""
    if not shown():
        yield
        return
    from tqdm import tqdm

    bar = tqdm(total=None, desc=desc, bar_format="{desc}: {elapsed}", file=sys.stderr, leave=False)
    done = threading.Event()

    def tick() -> None:
        while not done.wait(every):
            bar.refresh()

    t = threading.Thread(target=tick, daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()
        bar.close()
