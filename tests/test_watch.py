"""`ingest --watch`: the index follows creates, edits, deletes and renames in a watched folder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from qa_bot.factory import build_ingestor
from qa_bot.ingest.manifest import Manifest
from qa_bot.ingest.watch import watch_folders


def _sources(s) -> dict[str, str]:
    m = Manifest.load(Path(s.index_dir) / "manifest.json")
    return {} if m is None or m.dirty else {e.source: e.sha256 for e in m.sources.values()}


def _wait_for(cond, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def watched(tmp_path, settings_fake):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Apples are red.\n")
    ing = build_ingestor(settings_fake)
    ing.run([docs])
    reports, errors = [], []
    stop, ready = threading.Event(), threading.Event()
    t = threading.Thread(
        target=watch_folders, args=(ing, [docs], reports.append),
        kwargs={"debounce": 0.3, "stop": stop, "on_error": errors.append, "ready": ready}, daemon=True,
    )
    t.start()
    # a file written before the observer starts is never seen: a fixed sleep lost that race on a loaded CI host
    assert ready.wait(30), "the watcher starts"
    yield docs, reports, errors
    stop.set()
    t.join(timeout=10)
    assert not t.is_alive(), "the watcher stops when asked"


def test_watch_follows_create_modify_delete_rename(watched, settings_fake):
    docs, reports, errors = watched
    s = settings_fake
    assert set(_sources(s)) == {"a.txt"}

    (docs / "b.txt").write_text("Bananas are yellow.\n")
    assert _wait_for(lambda: set(_sources(s)) == {"a.txt", "b.txt"}), (_sources(s), errors)

    before = _sources(s)["a.txt"]
    (docs / "a.txt").write_text("Apples are green now.\n")
    assert _wait_for(lambda: _sources(s).get("a.txt") not in (None, before))

    (docs / "b.txt").unlink()
    assert _wait_for(lambda: set(_sources(s)) == {"a.txt"}), _sources(s)

    (docs / "a.txt").rename(docs / "apples.txt")
    assert _wait_for(lambda: set(_sources(s)) == {"apples.txt"}), _sources(s)

    sub = docs / "sub"
    sub.mkdir()
    (sub / "c.md").write_text("# Cherries\n\nCherries are dark.\n")
    assert _wait_for(lambda: set(_sources(s)) == {"apples.txt", "c.md"}), _sources(s)

    assert not errors
    assert any(r.embedded == 0 and r.added == 1 and r.removed == 1 for r in reports), "the rename reused vectors"
    from qa_bot.factory import build_store

    m = Manifest.load(Path(s.index_dir) / "manifest.json")
    assert build_store(s).count() == sum(e.chunks for e in m.sources.values())


def test_watch_reports_bad_files_and_keeps_going(watched, settings_fake):
    docs, reports, errors = watched
    (docs / "empty.txt").write_bytes(b"")
    assert _wait_for(lambda: any(r.failed for r in reports))
    assert reports[-1].failed[0][0].endswith("empty.txt")
    (docs / "d.txt").write_text("Dates are sweet.\n")
    assert _wait_for(lambda: "d.txt" in _sources(settings_fake))
    assert not errors


def test_index_inside_the_watched_folder_does_not_loop(tmp_path, settings_fake):
    """`qa-bot ingest . --watch` with index/ inside `.`: its own writes neither trigger syncs nor get ingested."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Apples are red.\n")
    s = settings_fake.model_copy(update={"index_dir": docs / "index"})
    ing = build_ingestor(s)
    first = ing.run([docs])
    assert first.added == 1 and not first.failed, first.failed
    reports: list = []
    stop = threading.Event()
    t = threading.Thread(target=watch_folders, args=(ing, [docs], reports.append),
                         kwargs={"debounce": 0.2, "stop": stop}, daemon=True)
    t.start()
    time.sleep(0.5)
    (docs / "b.txt").write_text("Bananas.\n")
    assert _wait_for(lambda: "b.txt" in _sources(s) and reports)  # the sync has returned its report too
    n = len(reports)
    time.sleep(1.5)  # a feedback loop would sync again and again on its own manifest writes
    stop.set()
    t.join(timeout=10)
    assert len(reports) == n <= 2
    assert all(not r.failed for r in reports)
