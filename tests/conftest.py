"""Shared fixtures: settings on a temporary index with the deterministic fake embedder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
WSJ = "001_3eefea4748145b2b.txt"
NYT = "000_8e1ffe6059112ee0.txt"
# a seeds question passage mode answers from its top passage. Not "When and where did Putin and Zelensky first
# meet?": the one passage naming Paris (the WSJ's headline, photo caption and lede) ranks fifth for it, after the
# top_k = 4 the model reads, since chunks end at sentence ends (session 36); whole documents answer it.
PASSAGE_Q = "When was Zelensky elected president?"


@pytest.fixture
def settings_fake(tmp_path):
    from qa_bot.settings import Settings

    # passage mode: tests of whole-document mode set context_tokens themselves
    return Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data", embed_model="fake-hash",
                    llm_provider="extractive", context_tokens=0)


@pytest.fixture
def seeds_index_fake(settings_fake):
    from qa_bot.factory import build_ingestor

    report = build_ingestor(settings_fake).run([SEEDS])
    assert report.added == 2 and not report.failed
    return settings_fake


@pytest.fixture(scope="module")
def seeds_extractive(tmp_path_factory):
    """The seeds with the fake embedder and the extractive backend, in passage mode, built once per module
    (its tests only read the index)."""
    from qa_bot.factory import build_ingestor
    from qa_bot.settings import Settings

    tmp = tmp_path_factory.mktemp("seeds-extractive")
    s = Settings(index_dir=tmp / "index", data_dir=tmp / "data", embed_model="fake-hash", llm_provider="extractive",
                 context_tokens=0)
    assert build_ingestor(s).run([SEEDS]).added == 2
    return s


@pytest.fixture(scope="session")
def real_seeds_index(tmp_path_factory):
    """The seeds indexed with the real MiniLM embedder (shared by slow tests), their whole-document prefix read
    ahead by the default model as `ask` does when it is missing: every test, and every `serve` on a copy of this
    index, resumes from it instead of reading the two articles again (about 2 min each on an AVX2-only host)."""
    from qa_bot.factory import build_bot, build_ingestor
    from qa_bot.settings import Settings
    from qa_bot.startup import read_ahead

    tmp = tmp_path_factory.mktemp("real")
    s = Settings(index_dir=tmp / "index", data_dir=tmp / "data")
    report = build_ingestor(s).run([SEEDS])
    assert report.chunks > 0 and not report.failed
    bot, said = build_bot(s), []
    read_ahead(bot, said.append)
    assert bot.plan().mode == "documents" and not bot.plan().pending, said
    del bot
    return s


@pytest.fixture
def docs_settings(tmp_path):
    """The seeds in their own folder (so a test may change a file) with document mode on."""
    import shutil

    from qa_bot.factory import build_ingestor
    from qa_bot.settings import Settings

    shutil.copytree(SEEDS, tmp_path / "seeds")
    s = Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data", embed_model="fake-hash",
                 llm_provider="extractive", context_tokens=6000, warm_passages_mb=0)
    assert build_ingestor(s).run([tmp_path / "seeds"]).added == 2
    return s
