"""An empty index is never answered with a refusal: the default one is filled from seeds/, others are named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from qa_bot.errors import EmptyIndexError
from qa_bot.factory import build_embedder, build_store
from qa_bot.startup import ensure_index

from .conftest import ROOT, SEEDS

QA_BOT = str(ROOT / ".venv" / "bin" / "qa-bot")


def _cli(cwd, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_BOT_EMBED_MODEL": "fake-hash", "QA_BOT_LLM_PROVIDER": "extractive"}
    env.pop("QA_BOT_INDEX_DIR", None)
    return subprocess.run([QA_BOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_empty_other_index_raises_naming_it(settings_fake):
    store = build_store(settings_fake)
    with pytest.raises(EmptyIndexError, match=r"is empty: add documents with `qa-bot ingest PATH --index"):
        ensure_index(settings_fake, build_embedder(settings_fake), store, echo=lambda m: None)


def test_ask_on_the_empty_default_index_ingests_the_seeds_first(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    r = _cli(tmp_path, "ask", "What does Russian state television call Zelensky?", "--json")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "is empty: ingesting seeds first" in r.stderr
    ans = json.loads(r.stdout)
    assert ans["refused"] is False and ans["citations"]
    r = _cli(tmp_path, "ask", "What does Russian state television call Zelensky?")  # now filled: no second ingest
    assert r.returncode == 0 and "ingesting" not in r.stderr


def test_ask_chat_and_eval_on_an_empty_other_index_exit_2(tmp_path):
    empty = tmp_path / "elsewhere"
    r = _cli(tmp_path, "ask", "Who is Konstantin Zatulin?", "--index", str(empty), "--json")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["error"]["type"] == "empty_index"
    assert str(empty.resolve()) in r.stderr and "qa-bot ingest" in r.stderr
    r = subprocess.run([QA_BOT, "chat", "--index", str(empty)], input="Who is Zatulin?\n", cwd=tmp_path,
                       env={**os.environ, "QA_BOT_EMBED_MODEL": "fake-hash", "QA_BOT_LLM_PROVIDER": "extractive"},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "is empty" in r.stderr
    ds = tmp_path / "q.jsonl"
    ds.write_text(json.dumps({"question": "Who is Zatulin?", "must_include": [["lawmaker"]]}) + "\n")
    r = _cli(tmp_path, "eval", "--dataset", str(ds), "--index", str(empty), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "is empty" in r.stderr
