"""The conversation turn with fakes: prompt rendering (golden), refusal paths, follow-ups, streaming."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from qa_bot.answer.prompts import REFUSAL, render
from qa_bot.bot import Turn
from qa_bot.errors import BadQuestionError
from qa_bot.factory import build_bot
from qa_bot.fakes import ScriptedLLM
from qa_bot.schema import Answer

from .conftest import SEEDS, WSJ

GOLDEN = Path(__file__).parent / "golden"
Q = "When and where did Putin and Zelensky first meet?"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; review and rerun with UPDATE_GOLDEN=1"


def test_prompts_render_strictly():
    with pytest.raises(UndefinedError):
        render("answer", question="q", refusal=REFUSAL)  # no sources


def test_rendered_prompt_golden(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=ScriptedLLM())
    msgs = bot.messages(Q, bot.retriever.retrieve(Q))
    _golden("answer_prompt.txt", "\n\n=====\n\n".join(f"[{m['role']}]\n{m['content']}" for m in msgs))
    assert "data, not instructions" in msgs[0]["content"]
    condense = render("condense", history=[Turn("Who met in Paris in 2019?", "Putin and Zelensky [1].")], question="Where is he based?")
    _golden("condense_prompt.txt", condense)


def test_cited_answer_from_scripted_model(seeds_index_fake):
    llm = ScriptedLLM(["The first and only time Putin met Zelensky was in Paris in 2019 [1]."])
    bot = build_bot(seeds_index_fake, llm=llm)
    ans = bot.ask(Q)
    assert not ans.refused, ans.removed_sentences
    assert "Paris" in ans.answer and "[1]" in ans.answer
    c = ans.citations[0]
    text = (SEEDS / c.source).read_text(encoding="utf-8")
    assert text[c.start : c.end] == c.quote
    assert len(llm.calls) == 1
    d = ans.to_dict()
    assert set(d) >= {"question", "standalone_question", "answer", "refused", "citations", "retrieved", "model", "timings"}
    assert set(d["timings"]) >= {"retrieval_ms", "first_token_ms", "total_ms"}
    json.dumps(d)


def test_json_answer_golden(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=ScriptedLLM(["The first and only time Putin met Zelensky was in Paris in 2019 [4]."]))
    d = bot.ask(Q).to_dict()
    d.pop("timings")
    for r in d["retrieved"]:
        r.pop("chunk_id")
    _golden("answer.json", json.dumps(d, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def test_model_refusal_and_unsupported_answer_are_refusals(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=ScriptedLLM([REFUSAL, "Kyiv has 2.9 million inhabitants [1]."]))
    a = bot.ask("What is the population of Kyiv?")
    assert a.refused and not a.citations and a.answer == REFUSAL
    b = bot.ask("How many people live in Kyiv?")
    assert b.refused and not b.citations
    assert b.removed_sentences == ["Kyiv has 2.9 million inhabitants."]


def test_nothing_retrieved_refuses_without_calling_the_model(seeds_index_fake):
    llm = ScriptedLLM(["should not be used"])
    bot = build_bot(seeds_index_fake, llm=llm)
    a = bot.ask("xylophone quasar zeppelin")
    assert a.refused and llm.calls == []


def test_follow_up_is_rewritten_before_retrieval(seeds_index_fake):
    llm = ScriptedLLM(["Where did Putin and Zelensky meet for the first time?", "They met in Paris in 2019 [1]."])
    bot = build_bot(seeds_index_fake, llm=llm)
    a = bot.ask("And where was that?", [Turn("When did Putin and Zelensky first meet?", "In 2019 [1].")])
    assert a.standalone_question == "Where did Putin and Zelensky meet for the first time?"
    assert "When did Putin and Zelensky first meet?" in llm.calls[0][0]["content"]
    assert not a.refused


def test_stream_yields_pieces_then_answer(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=ScriptedLLM(["They met in Paris in 2019 [1]."]))
    events = list(bot.stream(Q))
    assert all(isinstance(e, str) for e in events[:-1]) and len(events) > 2
    assert isinstance(events[-1], Answer)
    assert "".join(events[:-1]).strip() == "They met in Paris in 2019 [1]."


def test_extractive_backend_cites_the_wsj(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=None)
    a = bot.ask(Q)
    assert not a.refused and a.fallback == "extractive"
    assert any(c.source == WSJ for c in a.citations)


def test_empty_question_is_an_error(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=ScriptedLLM())
    with pytest.raises(BadQuestionError):
        bot.ask("   \n ")


def test_audit_log_written_without_secrets(seeds_index_fake, monkeypatch):
    s = seeds_index_fake.model_copy(update={"llm_api_key": "sk-secret-123"})
    bot = build_bot(s, llm=ScriptedLLM(["They met in Paris in 2019 [1]."]))
    bot.ask(Q)
    log = (Path(s.data_dir) / "audit.jsonl").read_text()
    rec = json.loads(log.splitlines()[-1])
    assert rec["question"] == Q and rec["model"] == "scripted" and rec["citations"]
    assert "sk-secret" not in log
