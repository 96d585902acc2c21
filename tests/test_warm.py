"""Reading passages ahead: which prompts the bot warms, and the serve-time background worker."""

from __future__ import annotations

import threading

from qa_bot.factory import build_bot
from qa_bot.fakes import ScriptedLLM
from qa_bot.llm.read_ahead import BackgroundWarmer


class WarmingLLM(ScriptedLLM):
    """A scripted model that records the prompts it is asked to read ahead."""

    def __init__(self):
        super().__init__()
        self.warmed: list[list[dict]] = []
        self.budgets: list[int] = []

    def warm(self, prompts, budget_bytes, prune=True, side=False):
        self.warmed = list(prompts)
        self.budgets.append(budget_bytes)
        n = len(self.warmed)
        return {"made": n, "snapshots": n, "seconds": 0.0, "mb": 0.0, "dropped": 0}


def test_every_passage_is_warmed_as_the_first_source_openings_first(seeds_index_fake):
    llm = WarmingLLM()
    bot = build_bot(seeds_index_fake.model_copy(update={"warm_passages_mb": 3}), llm=llm)
    chunks = list(bot.retriever.store.all_chunks())
    report = bot.warm()
    assert report is not None and report["made"] == len(chunks) == len(llm.warmed)
    assert llm.budgets == [3 << 20]
    firsts = [next(c for c in chunks if f"[1] {c.title}\n{c.text}\n" in p[1]["content"]) for p in llm.warmed]
    assert all("[2]" not in p[1]["content"] for p in llm.warmed)  # one source each
    positions = [c.position for c in firsts]
    assert positions == sorted(positions)  # every document's opening before any second passage
    assert {c.id for c in firsts} == {c.id for c in chunks}
    # a real question whose first source is one of them begins with the same text
    q = "When and where did Putin and Zelensky first meet?"
    asked = bot.messages(q, bot.retriever.retrieve(q))
    assert any(asked[1]["content"].startswith(p[1]["content"].split("\nQuestion:")[0]) for p in llm.warmed)
    assert all(p[0] == asked[0] for p in llm.warmed)


def test_nothing_is_warmed_when_switched_off_or_without_a_local_model(seeds_index_fake):
    llm = WarmingLLM()
    assert build_bot(seeds_index_fake.model_copy(update={"warm_passages_mb": 0}), llm=llm).warm() is None
    assert llm.budgets == []
    assert build_bot(seeds_index_fake, llm=ScriptedLLM()).warm() is None  # no read-ahead in this backend


def test_a_request_during_a_pass_runs_one_more_pass_after_it():
    started, release = threading.Event(), threading.Event()
    passes: list[int] = []

    def warm():
        passes.append(len(passes))
        if len(passes) == 1:
            started.set()
            release.wait(5)
        return {"made": 0}

    w = BackgroundWarmer(warm, echo=lambda m: None)
    w.request()
    assert started.wait(5)
    w.request()
    w.request()  # coalesced with the one before
    release.set()
    w.join(5)
    assert passes == [0, 1]


def test_a_failing_pass_is_reported_and_the_worker_stays_usable():
    said: list[str] = []
    calls: list[int] = []

    def warm():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return {"made": 2, "seconds": 1.0, "snapshots": 2, "mb": 14.0}

    w = BackgroundWarmer(warm, echo=said.append)
    w.request()
    w.join(5)
    w.request()
    w.join(5)
    assert said[0] == "reading passages ahead stopped: OSError: disk full"
    assert said[1].startswith("read 2 passages ahead")
