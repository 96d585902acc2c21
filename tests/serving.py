"""`qa-bot serve` as users start it, in a subprocess, for the browser and load tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa_bot.bench.startup import free_port

from .conftest import SEEDS


@contextlib.contextmanager
def running_server(index_dir: Path, tmp: Path, env_extra: dict | None = None) -> Iterator[dict]:
    """Serve a copy of `index_dir` with default settings (llama.cpp default model); yields url, pid, timings."""
    shutil.copytree(index_dir, tmp / "index")  # uploads must not touch the shared index
    port = free_port()
    env = {**os.environ, "QA_BOT_DATA_DIR": str(tmp / "data"), "QA_BOT_SEEDS_DIR": str(SEEDS),
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    for key in [k for k in env if k.startswith("QA_BOT_") and k not in ("QA_BOT_DATA_DIR", "QA_BOT_SEEDS_DIR")]:
        del env[key]  # the defaults are what is tested
    env.update(env_extra or {})
    qa = str(Path(sys.executable).parent / "qa-bot")
    log = open(tmp / "serve.log", "w")
    t0 = time.monotonic()
    proc = subprocess.Popen([qa, "serve", "--index", str(tmp / "index"), "--port", str(port)],
                            cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"qa-bot serve exited: {(tmp / 'serve.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("qa-bot serve did not come up in 300 s")
            time.sleep(1)
        yield {"url": url, "pid": proc.pid, "t0": t0, "ready_s": time.monotonic() - t0,
               "log": tmp / "serve.log", "tmp": tmp}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
