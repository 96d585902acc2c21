"""The clock from zero: a fresh clone of this checkout to the first answer in the UI, step by step.

`make run` does install -> index -> serve (which assembles the model, then reads ahead); here each step
runs on its own so its time is its own: `make install`, `qa-bot ingest seeds`, the model assembled and
checked into an empty model cache, `qa-bot serve` until its port answers, and the first answer asked
through the UI's own `/ask` endpoint (gradio_client, the same queue as the chat box).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from qa_bot.bench.startup import free_port, until_http

QUESTION = "When and where did Putin and Zelensky meet for the first time?"


def bench_from_zero(repo: Path, shared: Path, out: Path, *, cold_cache: bool = False, echo=print) -> dict:
    """Figures in seconds per step, written to OUT/from_zero.json; a failing step ends the run and says so."""
    work = Path(tempfile.mkdtemp(prefix="qa-bot-from-zero-"))
    clone = work / "main"
    (work / "shared").symlink_to(Path(shared).resolve())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_BOT_", "VIRTUAL_ENV"))}
    env.update(QA_BOT_MODEL_CACHE=str(work / "models"), QA_BOT_DATA_DIR=str(work / "data"))
    if cold_cache:  # an empty pip cache of its own; the machine's cache is left as it is
        env["PIP_CACHE_DIR"] = str(work / "pip-cache")
    r: dict = {"cold_pip_cache": cold_cache, "cpus": os.cpu_count(), "load_at_start": os.getloadavg()[0]}
    try:
        _step(r, "clone_s", ["git", "clone", "--quiet", str(repo), str(clone)], env, None, echo)
        _step(r, "install_s", ["make", "-s", "install"], env, clone, echo)
        qa = str(clone / ".venv" / "bin" / "qa-bot")
        _step(r, "index_s", [qa, "ingest", "seeds"], env, clone, echo)
        py = str(clone / ".venv" / "bin" / "python")
        assemble = "from pathlib import Path; from qa_bot.llm.gguf import resolve_gguf; from qa_bot.settings import Settings; " \
                   "s = Settings(); resolve_gguf(s.llm_model, Path(s.model_cache))"
        _step(r, "model_assembly_s", [py, "-c", assemble], env, clone, echo)
        port = free_port()
        r["serve_ready_s"], r["first_answer_s"] = _serve_and_ask(qa, env | {"QA_BOT_PORT": str(port)}, clone, port)
        echo(f"  serve ready {r['serve_ready_s']} s, first answer {r['first_answer_s']} s")
        steps = ("install_s", "index_s", "model_assembly_s", "serve_ready_s", "first_answer_s")
        if all(isinstance(r.get(k), float) for k in steps):
            r["total_s"] = round(sum(r[k] for k in steps), 1)
    except _StepFailed as e:
        r["error"] = str(e)
        echo(f"  from zero: {e}")
    finally:
        r["load_at_end"] = os.getloadavg()[0]
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "from_zero.json").write_text(json.dumps(r, indent=2))
        shutil.rmtree(work, ignore_errors=True)
    return r


class _StepFailed(Exception):
    pass


def _step(r: dict, key: str, args: list[str], env: dict, cwd: Path | None, echo) -> None:
    t0 = time.perf_counter()
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    r[key] = round(time.perf_counter() - t0, 1)
    echo(f"  {key[:-2]}: {r[key]} s")
    if proc.returncode != 0:
        raise _StepFailed(f"{' '.join(args[:3])} exited {proc.returncode}: {(proc.stderr or proc.stdout)[-400:]}")


def _serve_and_ask(qa: str, env: dict, cwd: Path, port: int) -> tuple[float | None, float | None]:
    """(serve start until the port answers, then the first /ask answer), each None when it did not come."""
    from gradio_client import Client

    t0 = time.perf_counter()
    proc = subprocess.Popen([qa, "serve"], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        ready = until_http(proc, port, 600, t0)
        if ready is None:
            return None, None
        t0 = time.perf_counter()
        answer = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(QUESTION, api_name="/ask")
        return round(ready, 1), round(time.perf_counter() - t0, 1) if answer.get("answer") else None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
