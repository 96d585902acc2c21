"""`qa-bot ingest --watch`: re-sync when the folder changes (watchdog events, debounced; hashes decide)."""

from __future__ import annotations

import threading
import time
from pathlib import Path


def watch_folders(ingestor, targets: list[Path], on_report, debounce: float = 1.0, stop: threading.Event | None = None) -> None:
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    changed = threading.Event()

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event):
            if event.event_type in ("created", "modified", "deleted", "moved"):
                changed.set()

    observer = Observer()
    for t in targets:
        observer.schedule(Handler(), str(t if t.is_dir() else t.parent), recursive=True)
    observer.start()
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            if changed.wait(0.2):
                time.sleep(debounce)  # let a burst of events settle
                changed.clear()
                on_report(ingestor.run(targets))
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join()
