"""`qa-bot eval --replay DIR`: an earlier run's recorded drafts stand in for the model, so a check's change is
measured on the drafts it will meet, without sampling."""

from __future__ import annotations

import json

import pytest

from qa_bot.evaluation.replay import ReplayError, ReplayModel
from qa_bot.evaluation.runner import run_eval
from qa_bot.llm.backends import BaseChatModel

from .test_eval_runner import TINY, eval_dir, write_jsonl  # noqa: F401  (eval_dir is a fixture)

ZATULIN = "What did Konstantin Zatulin call a possible meeting?"


class Scripted(BaseChatModel):
    """The recorded run's model: a rewrite for the follow-up, one fixed cited sentence for every question."""

    name = "scripted"

    def __init__(self):
        self.calls = 0

    def stream(self, messages, max_tokens=256, stop=None):
        self.calls += 1
        yield ZATULIN if "Last question:" in messages[-1]["content"] else \
            "Russian state television calls Zelensky a clown [1]."

    def count_tokens(self, text):
        return len(text.split())


class TokenizerOnly(Scripted):
    """The replaying run's model: loaded for its tokenizer, never asked to write."""

    def stream(self, messages, max_tokens=256, stop=None):
        raise AssertionError("the replay sampled the model")


def _rows(out):
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_replay_gives_the_recorded_runs_answers_without_the_model(seeds_index_fake, tmp_path, eval_dir,  # noqa: F811
                                                                  monkeypatch):
    import qa_bot.factory

    ds = write_jsonl(tmp_path / "tiny.jsonl", TINY[:4])
    recorder = Scripted()
    monkeypatch.setattr(qa_bot.factory, "build_llm", lambda s: recorder)
    run_eval(seeds_index_fake, [], ds, None, tmp_path / "rec", echo=lambda *_: None, eval_dir=eval_dir)
    assert recorder.calls >= 4  # three questions and a rewrite
    monkeypatch.setattr(qa_bot.factory, "build_llm", lambda s: TokenizerOnly())
    lines: list[str] = []
    run_eval(seeds_index_fake, [], ds, None, tmp_path / "re", echo=lines.append, eval_dir=eval_dir,
             replay=tmp_path / "rec")
    rec, re_ = _rows(tmp_path / "rec"), _rows(tmp_path / "re")
    keys = ("id", "standalone_question", "raw_answer", "answer", "refused", "citations", "mode")
    assert [{k: r[k] for k in keys} for r in re_] == [{k: r[k] for k in keys} for r in rec]
    assert any(r["standalone_question"] == ZATULIN for r in re_) and any(not r["refused"] for r in re_)
    assert json.loads((tmp_path / "re" / "summary.json").read_text())["model"] == "scripted"  # its baseline
    assert not any("no recorded draft" in line for line in lines)


def test_replay_streams_each_recorded_text_and_notes_what_it_lacks(tmp_path):
    (tmp_path / "suite").mkdir()
    write_jsonl(tmp_path / "suite" / "results.jsonl", [
        {"question": "What did he call it?", "standalone_question": ZATULIN, "raw_answer": "A compromise [1].",
         "second_draft": "A concession [1]."}])
    m = ReplayModel(tmp_path, Scripted())
    assert m.name == "scripted" and m.count_tokens("a b c") == 3
    ask = [{"role": "system", "content": "docs"}, {"role": "user", "content": f"[1] doc\n\nQuestion: {ZATULIN}\n"}]
    assert "".join(m.stream([{"role": "user", "content": "Conversation:\n\nLast question: What did he call it?\n"}])) \
        == ZATULIN
    assert "".join(m.stream(ask)) == "A compromise [1]."
    told = [*ask, {"role": "assistant", "content": "A compromise [1]."}, {"role": "user", "content": "That is wrong."}]
    assert "".join(m.stream(told)) == "A concession [1]."
    other = [{"role": "user", "content": "Question: Who is Olga Skabeyeva?"}]
    assert "".join(m.stream(other)) == "" and m.missing == ["Who is Olga Skabeyeva?"]  # answered with nothing


def test_replay_needs_recorded_results_and_never_writes_the_baseline(seeds_index_fake, tmp_path, eval_dir):  # noqa: F811
    with pytest.raises(ReplayError, match="no results.jsonl"):
        ReplayModel(tmp_path, None)
    ds = write_jsonl(tmp_path / "tiny.jsonl", TINY[:1])
    with pytest.raises(ReplayError, match="cannot write the baseline"):
        run_eval(seeds_index_fake, [], ds, None, tmp_path / "o", echo=lambda *_: None, eval_dir=eval_dir,
                 replay=tmp_path, update_baseline=True)
