"""Crash safety: an ingest killed at any point is brought to exactly the clean result by the next one.

Fast: an in-process store that "dies" before, inside or after its n-th write, for every write of a run.
Slow: `qa-bot ingest` over the SQuAD paragraphs killed with SIGKILL at many moments, with the fake and the
real embedder.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from qa_bot.factory import build_ingestor, build_store
from qa_bot.ingest import pipeline as ingest_module

from .conftest import ROOT
from .index_check import assert_same_index, snapshot

QA_BOT = str(ROOT / ".venv" / "bin" / "qa-bot")


class Crash(BaseException):
    """Stands for the process dying (BaseException: nothing in ingest may catch it)."""


class CrashingStore:
    """A real ChromaStore whose writes stop the run at the n-th crash point.

    Each write offers crash points before it, after it, and for add() also half-way (half the chunks
    written), like a process killed inside a batch.
    """

    def __init__(self, inner, at: int | None):
        self.inner = inner
        self.at = at
        self.points = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _point(self) -> None:
        self.points += 1
        if self.at is not None and self.points == self.at:
            raise Crash

    def add(self, chunks, vectors):
        self._point()
        half = len(chunks) // 2
        if half:
            self.inner.add(chunks[:half], vectors[:half])
            self._point()
        self.inner.add(chunks[half:], vectors[half:])
        self._point()

    def delete_doc(self, doc_id):
        self._point()
        self.inner.delete_doc(doc_id)
        self._point()

    def reset(self):
        self._point()
        self.inner.reset()
        self._point()


def _write_state_a(d: Path) -> None:
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    for i in range(8):
        (d / f"doc{i}.txt").write_text(f"Document {i} about orchards. " + f"Tree number {i} gives fruit. " * (5 + 9 * i))
    (d / "keep.md").write_text("# Keep\n\nThis file never changes.")


def _mutate_to_b(d: Path) -> None:
    (d / "doc1.txt").write_text("Document one was rewritten. It is short now.")
    (d / "doc2.txt").write_text("Document two grew. " + "More pears than before. " * 120)
    (d / "doc3.txt").unlink()
    (d / "doc4.txt").rename(d / "doc4 renamed.txt")
    (d / "doc5.txt").write_bytes(b"")  # became bad: its old chunks must go
    (d / "new.txt").write_text("A new file about quinces and medlars.")


def _run(s, store=None, rebuild=False):
    return build_ingestor(s, store=store).run([s.data_dir], rebuild=rebuild)


def _crash_points(tmp_path, settings_fake, monkeypatch, every_first: int, every_update: int) -> int:
    docs = tmp_path / "docs"
    # data_dir: just a place to keep the folder path; embed_batch_size=1 and pools of one batch: ingest
    # pools the chunks of several files into one embed + upsert, so pools of one chunk keep a write per file
    monkeypatch.setattr(ingest_module, "POOL_BATCHES", 1)
    base = settings_fake.model_copy(update={"data_dir": docs, "embed_batch_size": 1})

    # the reference: a clean ingest of the final folder state into a fresh index
    _write_state_a(docs)
    _mutate_to_b(docs)
    ref_s = base.model_copy(update={"index_dir": tmp_path / "ref"})
    _run(ref_s)
    want = snapshot(ref_s.index_dir)

    # count the crash points of the two runs (first ingest of A, then the update to B)
    _write_state_a(docs)
    probe_s = base.model_copy(update={"index_dir": tmp_path / "probe"})
    first = CrashingStore(build_store(probe_s), None)
    _run(probe_s, store=first)
    _mutate_to_b(docs)
    update = CrashingStore(build_store(probe_s), None)
    _run(probe_s, store=update)
    assert_same_index(snapshot(probe_s.index_dir), want)  # incremental == clean, without crashes
    assert first.points > 20 and update.points > 10

    cases = [("first", k) for k in range(1, first.points + 1, every_first)]
    cases += [("update", k) for k in range(1, update.points + 1, every_update)]
    for n, (phase, k) in enumerate(cases):
        s = base.model_copy(update={"index_dir": tmp_path / f"idx{n}"})
        _write_state_a(docs)
        if phase == "first":
            with pytest.raises(Crash):
                _run(s, store=CrashingStore(build_store(s), k))
            _mutate_to_b(docs)
        else:
            _run(s)
            _mutate_to_b(docs)
            with pytest.raises(Crash):
                _run(s, store=CrashingStore(build_store(s), k))
        if n % 4 == 0:  # and crash the recovery run too, early
            with pytest.raises(Crash):
                _run(s, store=CrashingStore(build_store(s), 2))
        _run(s)
        assert_same_index(snapshot(s.index_dir), want)
    return len(cases)


def test_crash_at_sampled_writes_then_reingest_gives_the_clean_result(tmp_path, settings_fake, monkeypatch):
    assert _crash_points(tmp_path, settings_fake, monkeypatch, every_first=12, every_update=7) >= 5


@pytest.mark.slow
def test_crash_at_every_write_then_reingest_gives_the_clean_result(tmp_path, settings_fake, monkeypatch):
    survived = _crash_points(tmp_path, settings_fake, monkeypatch, every_first=1, every_update=1)
    print(f"in-process crash points survived: {survived}")
    assert survived >= 40


def test_crash_during_rebuild(tmp_path, settings_fake):
    docs = tmp_path / "docs"
    s = settings_fake.model_copy(update={"data_dir": docs})
    _write_state_a(docs)
    _run(s)
    want = snapshot(s.index_dir)
    for k in (1, 2, 5):
        with pytest.raises(Crash):
            _run(s, store=CrashingStore(build_store(s), k), rebuild=True)
        _run(s)
    assert_same_index(snapshot(s.index_dir), want)


# --- real processes killed with SIGKILL -------------------------------------------------------------


def _squad_folder(folder: Path, limit: int | None = None) -> int:
    """The distinct SQuAD paragraphs as .txt files (written to a temporary folder, never the repo)."""
    from qa_bot.settings import Settings

    queries = Path(Settings().benchmarks) / "squad2" / "queries.json"
    if not queries.is_absolute():
        queries = ROOT / queries
    if not queries.is_file():
        pytest.skip(f"SQuAD benchmark data not found at {queries}")
    contexts = sorted({q["context"] for q in json.loads(queries.read_text())["queries"]})[:limit]
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(contexts):
        (folder / f"squad_{i:04d}.txt").write_text(text, encoding="utf-8")
    return len(contexts)


def _ingest_cmd(folder: Path, index: Path) -> list[str]:
    return [QA_BOT, "ingest", str(folder), "--index", str(index)]


def _env(embed_model: str) -> dict:
    return {**os.environ, "QA_BOT_EMBED_MODEL": embed_model, "HF_HUB_OFFLINE": "1"}


def _clean(folder: Path, index: Path, env: dict, cwd: Path) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(_ingest_cmd(folder, index), env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    return time.perf_counter() - t0


def _kill_after(folder: Path, index: Path, env: dict, cwd: Path, delay: float) -> bool:
    """Start an ingest and SIGKILL it after `delay` s; False if it finished first."""
    p = subprocess.Popen(_ingest_cmd(folder, index), env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        return True


def _kill_points(folder, tmp_path, embed_model: str, n_points: int, atol: float) -> int:
    """SIGKILL ingests at spread-out moments; after each, one more ingest must give the clean index.

    Returns the number of kills (a killed recovery run counts too)."""
    env = _env(embed_model)
    ref = tmp_path / "ref"
    duration = _clean(folder, ref, env, tmp_path)
    want = snapshot(ref)
    assert len(want["sources"]) > 50
    rng = random.Random(20250101)
    # spread over the whole run: start-up, the file loop, and the final BM25/manifest step
    delays = [0.2 + (0.9 * duration - 0.2) * (i + rng.random()) / n_points for i in range(n_points)]
    killed = 0
    for n, delay in enumerate(delays):
        idx = tmp_path / f"idx{n}"
        # the machine's speed varies: a run that finished before its kill is retried with a shorter delay
        while not _kill_after(folder, idx, env, tmp_path, delay):
            shutil.rmtree(idx)
            delay /= 2
        killed += 1
        if n % 3 == 2:  # the recovery run is killed too before it completes
            killed += _kill_after(folder, idx, env, tmp_path, 0.5 + rng.random() * duration / 2)
        _clean(folder, idx, env, tmp_path)
        assert_same_index(snapshot(idx), want, atol=atol)
    return killed


@pytest.mark.slow
def test_sigkill_during_ingest_of_squad_paragraphs_fake_embedder(tmp_path):
    folder = tmp_path / "squad"
    n_docs = _squad_folder(folder)
    assert n_docs >= 300
    killed = _kill_points(folder, tmp_path, "fake-hash", n_points=6, atol=1e-6)  # 6: the slow tier's budget
    print(f"kill points survived (fake embedder): {killed} over {n_docs} documents")
    assert killed >= 6


@pytest.mark.slow
def test_sigkill_during_ingest_real_embedder(tmp_path):
    folder = tmp_path / "squad"
    _squad_folder(folder, limit=120)
    killed = _kill_points(folder, tmp_path, "all-MiniLM-L6-v2", n_points=3, atol=1e-4)
    print(f"kill points survived (MiniLM): {killed}")
    assert killed >= 2
