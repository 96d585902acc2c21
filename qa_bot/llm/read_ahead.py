"""Reading passages ahead in the background while the web UI serves (see `Bot.warm`)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def describe(report: dict) -> str:
    """One line for a `warm()` report, as `serve` and `eval` print it."""
    what = "whole-document prefix" if report.get("what") == "documents" else "passages"
    if report.get("documents"):
        what = f"document prefixes ({report['documents']}) and passages"
    return (f"read {report['made']} {what} ahead in {report['seconds']} s "
            f"({report['snapshots']} on disk, {report['mb']} MB)")


class BackgroundWarmer:
    """Runs `warm()` on a daemon thread; a request during a pass queues one more pass after it.

    Passes are per passage under the model's lock, so questions asked meanwhile wait at most one
    passage's reading (about a second on 2 cores), not the whole warm-up.
    """

    def __init__(self, warm: Callable[[], dict | None], echo: Callable[[str], None] = print):
        self._warm, self._echo = warm, echo
        self._lock = threading.Lock()
        self._pending = False
        self._thread: threading.Thread | None = None
        self.last: dict | None = None

    def request(self) -> None:
        with self._lock:
            self._pending = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="qa-bot-warm", daemon=True)
                self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        t = self._thread
        if t is not None:
            t.join(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                self._pending = False
            try:
                self.last = self._warm()
            except Exception as e:  # a background nicety: report it, answers still work without it
                self._echo(f"reading passages ahead stopped: {type(e).__name__}: {e}")
                continue
            if self.last and self.last["made"]:
                self._echo(describe(self.last))
