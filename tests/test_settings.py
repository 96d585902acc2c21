"""Settings precedence (defaults < qa_bot.toml < QA_BOT_* env < CLI) and the README's configuration table."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from qa_bot.ingest.manifest import Manifest
from qa_bot.settings import Settings, load_settings
from qa_bot.settings_table import markdown_table, readme_block

from .conftest import ROOT

QA_BOT = str(ROOT / ".venv" / "bin" / "qa-bot")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No QA_BOT_* variables from the caller, and a cwd without a qa_bot.toml."""
    for k in list(os.environ):
        if k.startswith("QA_BOT_"):
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults(clean_env):
    s = Settings()
    assert s.top_k == Settings.model_fields["top_k"].default
    assert s.host == "127.0.0.1" and s.embed_model == "all-MiniLM-L6-v2" and s.chroma_url == ""
    assert s.index_dir == Path("index")


def test_precedence_defaults_toml_env_cli(clean_env, monkeypatch):
    (clean_env / "qa_bot.toml").write_text('top_k = 7\nchunk_size = 222\nport = 9001\nhost = "0.0.0.0"\n')
    s = load_settings()
    assert (s.top_k, s.chunk_size, s.port, s.host) == (7, 222, 9001, "0.0.0.0")  # toml over defaults
    assert s.chunk_overlap == Settings.model_fields["chunk_overlap"].default
    monkeypatch.setenv("QA_BOT_TOP_K", "9")
    monkeypatch.setenv("QA_BOT_PORT", "9002")
    s = load_settings()
    assert (s.top_k, s.chunk_size, s.port) == (9, 222, 9002)  # env over toml
    s = load_settings(top_k=3, port=None, host=None)  # None = option not given on the command line
    assert (s.top_k, s.chunk_size, s.port, s.host) == (3, 222, 9002, "0.0.0.0")  # CLI over env


def test_env_parses_lists_and_types(clean_env, monkeypatch):
    monkeypatch.setenv("QA_BOT_ALLOWED_EXTENSIONS", '[".txt"]')
    monkeypatch.setenv("QA_BOT_MAX_FILE_MB", "0.5")
    monkeypatch.setenv("QA_BOT_LLM_PROVIDER", "extractive")
    s = Settings()
    assert s.allowed_extensions == [".txt"] and s.max_file_mb == 0.5 and s.llm_provider == "extractive"


def test_cli_option_beats_env_and_toml(clean_env):
    """Through the real command: the toml in cwd is read (its embedder is used), the env var's index
    is overridden by --index."""
    (clean_env / "qa_bot.toml").write_text('index_dir = "from_toml"\nembed_model = "fake-hash"\n')
    docs = clean_env / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Apples are red.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}
    env["QA_BOT_INDEX_DIR"] = str(clean_env / "from_env")
    r = subprocess.run([QA_BOT, "ingest", str(docs), "--index", str(clean_env / "from_cli")], cwd=clean_env,
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    m = Manifest.load(clean_env / "from_cli" / "manifest.json")
    assert m is not None and m.embedder == "fake-hash"
    assert not (clean_env / "from_env").exists() and not (clean_env / "from_toml").exists()


def test_invalid_setting_is_one_line_not_a_traceback(clean_env):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("QA_BOT_")}, "QA_BOT_TOP_K": "many"}
    r = subprocess.run([QA_BOT, "ingest", "--index", str(clean_env / "i")], cwd=clean_env, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert "top_k" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_every_setting_is_described():
    for name, field in Settings.model_fields.items():
        assert field.description and len(field.description) > 10, name


def test_readme_configuration_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {ln.split("`")[1] for ln in readme.splitlines() if ln.startswith("| `")}
    missing = [name for name in Settings.model_fields if name not in rows]
    assert not missing, f"README.md configuration table lacks {missing}: run `python -m qa_bot.settings_table`"


def test_readme_table_is_current():
    block = readme_block((ROOT / "README.md").read_text(encoding="utf-8"))
    assert block is not None, "README.md lacks the settings-table markers"
    assert block == markdown_table(), "README.md settings table is stale: run `python -m qa_bot.settings_table`"


def test_update_readme_adds_markers_once(tmp_path):
    from qa_bot.settings_table import END, START, update_readme

    f = tmp_path / "README.md"
    f.write_text("# x\n\nSome text.\n")
    assert update_readme(f) is True
    text = f.read_text()
    assert text.startswith("# x\n\nSome text.\n") and text.count(START) == text.count(END) == 1
    assert update_readme(f) is False
    f.write_text(text.replace("| `top_k`", "| `old`") + "\nafter\n")
    assert update_readme(f) is True and "| `top_k`" in f.read_text() and f.read_text().endswith("\nafter\n")
