"""Scale-out: a real `chroma run` server on 127.0.0.1 used through QA_BOT_CHROMA_URL."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request

import pytest

from qa_bot.bench.startup import free_port
from qa_bot.factory import build_bot, build_store
from qa_bot.ingest.manifest import Manifest

from .conftest import ROOT, SEEDS

CHROMA = ROOT / ".venv" / "bin" / "chroma"
QA_BOT = str(ROOT / ".venv" / "bin" / "qa-bot")


@pytest.fixture
def chroma_server(tmp_path):
    if not CHROMA.exists():
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    log = open(tmp_path / "chroma.log", "wb")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"chroma run did not come up: {(tmp_path / 'chroma.log').read_text()[-2000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.mark.slow
def test_ingest_and_ask_through_a_chroma_server(chroma_server, tmp_path):
    from qa_bot.settings import Settings

    index = tmp_path / "index"
    env = {**os.environ, "QA_BOT_CHROMA_URL": chroma_server}
    r = subprocess.run([QA_BOT, "ingest", str(SEEDS), "--index", str(index)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "2 added" in r.stdout
    # the vectors live in the server, not in an embedded store beside the manifest
    assert not (index / "chroma").exists()
    m = Manifest.load(index / "manifest.json")
    assert m is not None and not m.dirty and len(m.sources) == 2

    s = Settings(index_dir=index, data_dir=tmp_path / "data", chroma_url=chroma_server)
    store = build_store(s)
    assert store.count() == sum(e.chunks for e in m.sources.values()) > 0
    assert store.doc_counts() == {e.doc_id: e.chunks for e in m.sources.values()}

    # a second ingest is a no-op through the server too
    r = subprocess.run([QA_BOT, "ingest", str(SEEDS), "--index", str(index)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "2 unchanged" in r.stdout, r.stdout + r.stderr

    bot = build_bot(s, llm=None)
    ans = bot.ask("When and where did Putin and Zelensky first meet?")
    assert not ans.refused and ans.citations
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    assert {c.source for c in ans.citations} <= seeds
    texts = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    for c in ans.citations:
        assert c.quote in texts[c.source]
    assert "Paris" in ans.answer or "2019" in ans.answer


def test_unreachable_server_is_a_clear_error(tmp_path):
    """No server behind the URL: one BackendError-style message from the CLI, not a traceback."""
    env = {**os.environ, "QA_BOT_CHROMA_URL": f"http://127.0.0.1:{free_port()}", "QA_BOT_EMBED_MODEL": "fake-hash"}
    r = subprocess.run([QA_BOT, "ingest", str(SEEDS), "--index", str(tmp_path / "i")], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "Chroma" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
