"""No network: with the defaults, ingest, ask, eval and serve work in a process without any network (`unshare -n`)."""

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


SERVE_DRIVER = r"""
import json, socket, subprocess, sys, time, urllib.request
from gradio_client import Client
qa, index, port = sys.argv[1], sys.argv[2], sys.argv[3]
proc = subprocess.Popen([qa, "serve", "--index", index, "--port", port], stdout=open("serve.log", "w"),
                        stderr=subprocess.STDOUT)
url = f"http://127.0.0.1:{port}/"
try:
    for _ in range(600):
        try:
            if urllib.request.urlopen(url, timeout=5).status == 200:
                break
        except OSError:
            time.sleep(1)
    ans = Client(url, verbose=False).predict("When and where did Putin and Zelensky first meet?", api_name="/ask")
    print(json.dumps(ans))
finally:
    proc.terminate()
    proc.wait(30)
"""


@pytest.mark.slow
def test_default_model_ask_eval_and_serve_without_network(real_seeds_index, tmp_path):
    """The embedded default LLM, the eval harness and the web UI, in a network namespace with only loopback."""
    reason = _unshare_ok() or (None if shutil.which("ip") else "iproute2 (ip) is not installed")
    if reason:
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("QA_BOT_") and k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    index = str(real_seeds_index.index_dir)

    def offline(*cmd: str, timeout: int = 900) -> subprocess.CompletedProcess:
        # loopback up (the UI binds 127.0.0.1), nothing else: no route out of the namespace
        script = 'ip link set lo up && exec "$@"'
        return subprocess.run(["unshare", "-n", "sh", "-c", script, "sh", *cmd], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=timeout)

    r = offline(QA_BOT, "ask", "When and where did Putin and Zelensky first meet?", "--index", index, "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
    ans = json.loads(r.stdout)
    assert ans["model"] == "qwen2.5-coder-1.5b" and "Paris" in ans["answer"] and ans["citations"]

    ds = tmp_path / "mini.jsonl"
    ds.write_text(json.dumps({"id": "m1", "question": "Where did Trump and Putin hold their recent summit?",
                              "must_include": [["Alaska"]]}) + "\n" + json.dumps(
        {"id": "m2", "question": "What is the population of Kyiv?", "answerable": False}) + "\n")
    r = offline(QA_BOT, "eval", "--dataset", str(ds), "--index", index, "--out", str(tmp_path / "ev"))
    assert r.returncode == 0 and "Traceback" not in r.stderr, (r.stdout[-2000:], r.stderr[-3000:])
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["metrics"]["questions"] == 2 and summary["metrics"]["errors"] == 0

    driver = tmp_path / "drive_serve.py"
    driver.write_text(SERVE_DRIVER)
    python = str(ROOT / ".venv" / "bin" / "python")
    r = offline(python, str(driver), QA_BOT, index, "7861")
    assert r.returncode == 0, (r.stderr[-3000:], (tmp_path / "serve.log").read_text()[-3000:])
    ans = json.loads(r.stdout.strip().splitlines()[-1])
    assert "Paris" in ans["answer"] and any(c["quote"] for c in ans["citations"])
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
