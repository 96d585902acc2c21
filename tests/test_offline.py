"""No network: with the defaults, ingest and ask work in a process without any network (`unshare -n`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from .conftest import ROOT, SEEDS

QA_BOT = str(ROOT / ".venv" / "bin" / "qa-bot")


def _unshare_ok() -> str | None:
    if not shutil.which("unshare"):
        return "unshare is not installed"
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    return None if r.returncode == 0 else f"unshare -n is not permitted here: {r.stderr.strip()}"


@pytest.mark.slow
def test_ingest_and_ask_without_network(tmp_path):
    reason = _unshare_ok()
    if reason:
        pytest.skip(reason)
    # the defaults, not the test conveniences: real MiniLM, and no offline variables handed in
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QA_BOT_") and k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    index = tmp_path / "T"
    r = subprocess.run(["unshare", "-n", QA_BOT, "ingest", str(SEEDS), "--index", str(index)], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "2 added" in r.stdout and "0 failed" in r.stdout
    r = subprocess.run(
        ["unshare", "-n", QA_BOT, "ask", "When and where did Putin and Zelensky first meet?", "--index", str(index),
         "--llm", "extractive", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    ans = json.loads(r.stdout)
    assert not ans["refused"] and ans["citations"]
    assert {c["source"] for c in ans["citations"]} <= {p.name for p in SEEDS.glob("*.txt")}
