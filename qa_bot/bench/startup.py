"""Start-up times of the real command, each in a fresh process, with that process's own peak RSS."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def qa_bot_exe() -> str:
    here = Path(sys.executable).with_name("qa-bot")
    return str(here) if here.exists() else (shutil.which("qa-bot") or "qa-bot")


def _wait(proc: subprocess.Popen, timeout: float | None = None) -> tuple[int, float]:
    """(exit status, peak RSS in MB) of a child, via wait4 so each child's peak is its own."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG if deadline else 0)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss / 1024
        if deadline and time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            deadline = None
        time.sleep(0.01)


def run_timed(args: list[str], env: dict, timeout: float) -> tuple[float, int, float, str]:
    """(seconds, exit status, peak RSS MB, stdout)."""
    import tempfile

    with tempfile.TemporaryFile() as f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, env=env, stdout=f, stderr=subprocess.DEVNULL, start_new_session=True)
        code, rss = _wait(proc, timeout)
        secs = time.perf_counter() - t0
        f.seek(0)
        return secs, code, rss, f.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_startup(index_dir: Path, data_dir: Path, env_extra: dict, question: str, *, help_runs: int = 3,
                  ui_timeout: float = 300.0, echo=print) -> dict:
    exe = qa_bot_exe()
    env = {**os.environ, **env_extra, "QA_BOT_INDEX_DIR": str(index_dir), "QA_BOT_DATA_DIR": str(data_dir)}
    helps = []
    for _ in range(help_runs):
        secs, code, _, _ = run_timed([exe, "--help"], env, 60)
        if code == 0:
            helps.append(secs)
    helps.sort()
    out: dict = {"cli_help_s": round(helps[len(helps) // 2], 3) if helps else None}
    echo(f"  qa-bot --help: {out['cli_help_s']} s (median of {len(helps)})")

    secs, code, rss, stdout = run_timed([exe, "ask", question, "--json", "--index", str(index_dir)], env, 900)
    out["first_answer_s"] = round(secs, 3) if code == 0 else None
    out["ask_peak_rss_mb"] = round(rss, 1)
    try:
        out["first_answer_model"] = json.loads(stdout)["model"]
    except (ValueError, KeyError):
        out["first_answer_error"] = f"exit status {code}"
    echo(f"  qa-bot ask (process start to answer): {out['first_answer_s']} s, peak RSS {rss:.0f} MB")

    port = free_port()
    ready, rss = time_to_http([exe, "serve", "--port", str(port), "--index", str(index_dir)], env, port, ui_timeout)
    out["ui_ready_s"] = round(ready, 3) if ready is not None else None
    out["serve_peak_rss_mb"] = round(rss, 1)
    if ready is None:
        out["ui_ready_note"] = "the UI did not answer on its port"
    out["ui_ready_what"] = "`qa-bot serve` start until the HTTP port answers"
    echo(f"  qa-bot serve to UI ready: {out['ui_ready_s']} s")
    out.update(make_run(env, data_dir, ui_timeout, echo))
    return out


def make_run(env: dict, data_dir: Path, timeout: float, echo=print) -> dict:
    """`make run` in the checkout, to a fresh index folder: the install check, the seeds index build and
    `serve`, until the UI answers. Needs a checkout installed with `make install`."""
    root = Path(__file__).resolve().parents[2]
    make = shutil.which("make")
    if make is None or not (root / "Makefile").is_file() or not (root / ".venv" / ".installed").is_file():
        return {"make_run_ui_ready_s": None, "make_run_note": "not an installed checkout (no Makefile, make or .venv)"}
    port = free_port()
    index = Path(data_dir) / "make-run-index"
    run_env = {**env, "QA_BOT_INDEX_DIR": str(index), "QA_BOT_PORT": str(port)}
    ready, _ = time_to_http([make, "-s", "-C", str(root), "run"], run_env, port, timeout)
    echo(f"  make run (installed checkout, index built from seeds) to UI ready: {ready and round(ready, 1)} s")
    return {"make_run_ui_ready_s": round(ready, 3) if ready is not None else None,
            "make_run_what": "`make run` on an installed checkout: install check, index built from seeds/ into an "
                             "empty folder, serve, until the HTTP port answers (a fresh machine adds `make install`)"}


def time_to_http(args: list[str], env: dict, port: int, timeout: float) -> tuple[float | None, float]:
    """(seconds from start until http://127.0.0.1:port/ answers or None, peak RSS MB); the process group is ended."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        ready = until_http(proc, port, timeout, t0)
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGTERM)
        _, rss = _wait(proc, 20) if proc.returncode is None else (proc.returncode, 0.0)
    return ready, rss


def until_http(proc: subprocess.Popen, port: int, timeout: float, t0: float) -> float | None:
    """Seconds from `t0` until http://127.0.0.1:port/ answers while `proc` runs; None if it never does."""
    ready = None
    while time.perf_counter() - t0 < timeout and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                if r.status < 500:
                    ready = time.perf_counter() - t0
                    break
        except OSError:
            time.sleep(0.2)
    return ready
