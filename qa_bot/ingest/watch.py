"""`qa-bot ingest --watch`: re-sync when the folder changes (watchdog events, debounced; hashes decide)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path


def _report_error(e: Exception) -> None:
    print(f"watch: sync failed, will retry on the next change: {e}", file=sys.stderr)


def watch_folders(
    ingestor, targets: list[Path], on_report, debounce: float = 1.0, stop: threading.Event | None = None,
    on_error=_report_error, ready: threading.Event | None = None,
) -> None:
    """Sync `targets` into the index after each burst of changes until `stop` is set; `ready` is set once changes
    are being watched (a change made before that is only picked up by the next sync)."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    changed = threading.Event()
    # the index may live inside a watched folder: its own writes must not trigger another sync
    index_dir = str(Path(ingestor.index_dir).resolve())

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type not in ("created", "modified", "deleted", "moved"):
                return
            paths = [event.src_path, getattr(event, "dest_path", "") or ""]
            if all(not p or _inside(str(p), index_dir) for p in paths):
                return
            changed.set()

    observer = Observer()
    for t in targets:
        observer.schedule(Handler(), str(t if t.is_dir() else t.parent), recursive=True)
    observer.start()
    if ready is not None:
        ready.set()
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            if changed.wait(0.2):
                time.sleep(debounce)  # let a burst of events settle
                changed.clear()
                try:
                    on_report(ingestor.run(targets))
                except Exception as e:  # a watcher outlives one bad sync (a mismatch, a vanished folder)
                    on_error(e)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join()


def _inside(path: str, folder: str) -> bool:
    p = str(Path(path).resolve())
    return p == folder or p.startswith(folder.rstrip("/") + "/")
