"""Bad questions: empty, huge, control characters, other languages, emoji. Never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from qa_bot.errors import BadQuestionError
from qa_bot.factory import build_bot
from qa_bot.schema import Answer

from .conftest import ROOT

QA_BOT = str(ROOT / ".venv" / "bin" / "qa-bot")


@pytest.fixture(scope="module")
def seeds_index_fake(seeds_extractive):
    """The questions only read the index: one build for the module."""
    return seeds_extractive


@pytest.fixture(scope="module")
def bot(seeds_index_fake):
    return build_bot(seeds_index_fake, llm=None)


@pytest.mark.parametrize("q", ["", "   ", "\n\t  \r\n", "\x00\x01\x02\x1b"])
def test_empty_questions_raise_a_clear_error(bot, q):
    with pytest.raises(BadQuestionError, match="empty"):
        bot.ask(q)
    with pytest.raises(BadQuestionError):
        next(iter(bot.stream(q)))


def test_huge_question_is_truncated_with_a_notice_quickly(bot, seeds_index_fake):
    q = "Where did Putin and Zelensky meet? " + "blah " * 40_000
    assert len(q) > 200_000
    t0 = time.perf_counter()
    ans = bot.ask(q)
    assert time.perf_counter() - t0 < 10
    assert "truncated" in ans.notice and str(seeds_index_fake.max_question_chars) in ans.notice
    assert len(ans.standalone_question) <= seeds_index_fake.max_question_chars
    json.dumps(ans.to_dict())  # serialisable as the CLI prints it


@pytest.mark.parametrize(
    "q",
    [
        "Where did\x00 Putin\x07 and\x1b[31m Zelensky\x7f meet?",
        "Где встретились Путин и Зеленский?",
        "普京和泽连斯基在哪里见面？",
        "بوتين وزيلينسكي أين التقيا؟",
        "🤔🤔 Putin 🇷🇺 Zelensky 🇺🇦 meeting? 🙏",
        "🤔🤔🤔",
        "?!.,;:",
        "\u202eevil bidi text\u202c Putin",
        "Putin " * 3000,
    ],
)
def test_odd_questions_are_answered_or_refused(bot, q):
    ans = bot.ask(q)
    assert isinstance(ans, Answer)
    assert ans.answer.strip()
    if not ans.refused:
        assert ans.citations, "an answer always carries citations"
        for c in ans.citations:
            assert c.quote and c.source
    d = ans.to_dict()
    assert not any(ch in d["standalone_question"] for ch in "\x00\x07\x1b\x7f")
    json.dumps(d, ensure_ascii=False)


def test_stream_yields_text_then_one_answer(bot):
    events = list(bot.stream("普京 Putin 🙂"))
    assert isinstance(events[-1], Answer)
    assert all(isinstance(e, str) for e in events[:-1])


def _ask_cli(question: str, index, cwd, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_BOT_EMBED_MODEL": "fake-hash"}
    return subprocess.run(
        [QA_BOT, "ask", question, "--index", str(index), "--llm", "extractive", *extra],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
    )


def test_cli_empty_question_is_a_one_line_error(seeds_index_fake, tmp_path):
    for q in ["", "   "]:
        r = _ask_cli(q, seeds_index_fake.index_dir, tmp_path)
        assert r.returncode != 0
        assert "Traceback" not in r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "empty" in lines[0], r.stderr


def test_cli_odd_questions_never_trace(seeds_index_fake, tmp_path):
    # argv caps one argument at 128 KiB, so the CLI's long case is 100k characters
    for q in ["\x01\x02\x03", "Где встретились Путин и Зеленский? 🤔", "where? " * 14_000]:
        r = _ask_cli(q, seeds_index_fake.index_dir, tmp_path, "--json")
        assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
        if q.strip("\x01\x02\x03"):
            assert r.returncode == 0, r.stderr
            ans = json.loads(r.stdout)
            assert ans["answer"] and (ans["refused"] or ans["citations"])
            if len(q) > 50_000:
                assert "truncated" in ans["notice"]
        else:
            assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1
