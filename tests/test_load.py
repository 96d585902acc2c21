"""Concurrent users: 8 sessions at once against `qa-bot serve` with the default model. Half go through
Gradio's API with gradio_client (/ask, and /chat for a question and a follow-up that only its own history
explains), half through the OpenAI-compatible endpoint with the `openai` client (a single question, and a
two-turn conversation carried in `messages`)."""

from __future__ import annotations

import json
import threading
import time

import psutil
import pytest

from qa_bot.evaluation.matcher import must_include_ok

from .conftest import ROOT
from .serving import running_server

pytestmark = pytest.mark.slow

SESSIONS = 8
# (question, must_include groups): single questions for /ask
ASK = [
    ("When and where did Putin and Zelensky first meet?", [["Paris"], ["2019"]]),
    ("Where did Trump and Putin hold their recent summit?", [["Alaska"]]),
    ("What language did Zelensky grow up speaking?", [["Russian"]]),
    ("Where did Russia hand Ukraine its maximalist peace terms?", [["Istanbul"]]),
]
# two-turn conversations whose follow-up says "he"/"she": answered right only from the session's own history
CHATS = [
    [("Who is Konstantin Zatulin?", [["lawmaker", "legislator", "parliament", "Duma"]]),
     ("How did he characterize a possible Putin-Zelensky meeting?", [["compromise", "concession"]])],
    [("Who is Olga Skabeyeva?", [["60 Minutes", "host"]]),
     ("What did she say about Zelensky's behavior during his White House visit?", [["schoolboy"]])],
]


def _ok(answer: dict, groups: list[list[str]]) -> bool:
    return not answer["refused"] and must_include_ok(answer["answer"], groups)


def _rss_mb(pid: int) -> float:
    p = psutil.Process(pid)
    return sum(x.memory_info().rss for x in [p, *p.children(recursive=True)]) / 1e6


def _openai_answer(client, messages: list[dict]) -> tuple[dict, str]:
    """(the answer object, the reply's content) from /v1/chat/completions."""
    done = client.chat.completions.create(model="qa-bot", messages=messages)
    return done.to_dict()["qa_bot"], done.choices[0].message.content


def test_eight_concurrent_sessions_through_gradio_and_openai_apis(real_seeds_index, tmp_path):
    from gradio_client import Client
    from openai import OpenAI

    with running_server(real_seeds_index.index_dir, tmp_path) as srv:
        warm = Client(srv["url"], verbose=False)
        warm.predict("Who is Sergey Lavrov?", api_name="/ask")  # model loaded and warm before timing
        rss_before = _rss_mb(srv["pid"])
        peak = [rss_before]
        done = threading.Event()

        def sample():
            while not done.wait(0.5):
                peak.append(_rss_mb(srv["pid"]))

        results: list[dict] = []
        lock = threading.Lock()

        def session(i: int) -> None:
            # by i % 4: a gradio /ask, a gradio /chat conversation, an openai question, an openai conversation
            kind = ("ask", "chat", "openai", "openai-chat")[i % 4]
            if kind in ("ask", "openai"):
                calls = [ASK[i // 2]]  # sessions 0, 2, 4, 6 ask the four questions
            else:
                calls = CHATS[i // 4]
            client: Client | OpenAI
            if kind.startswith("openai"):
                client = OpenAI(base_url=srv["url"] + "v1", api_key="unused", max_retries=0, timeout=1800)
            else:
                client = Client(srv["url"], verbose=False)  # its own session_hash, like a separate user
            conv = ""
            messages: list[dict] = []
            for q, groups in calls:
                t = time.monotonic()
                try:
                    if isinstance(client, OpenAI):  # the conversation is the messages the client sends
                        messages.append({"role": "user", "content": q})
                        out, content = _openai_answer(client, messages)
                        messages.append({"role": "assistant", "content": content})
                    elif kind == "ask":
                        out = client.predict(q, api_name="/ask")
                    else:
                        out = client.predict(q, conv, api_name="/chat")
                        conv = out["conversation"]
                    err = None
                except Exception as e:  # recorded, asserted on below
                    out, err = None, repr(e)
                with lock:
                    results.append({"session": i, "kind": kind, "question": q, "seconds": time.monotonic() - t,
                                    "ok": bool(out) and _ok(out, groups), "error": err,
                                    "answer": out and out["answer"], "conversation": out and out.get("conversation"),
                                    "standalone": out and out["standalone_question"]})

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        threads = [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(1800)
        wall = time.monotonic() - t0
        done.set()
        sampler.join()

    secs = sorted(r["seconds"] for r in results)
    by_kind = {k: sorted(r["seconds"] for r in results if r["kind"] == k)
               for k in ("ask", "chat", "openai", "openai-chat")}
    report = {
        "sessions": SESSIONS, "requests": len(results), "wall_s": round(wall, 1),
        "throughput_answers_per_min": round(60 * len(results) / wall, 2),
        "p50_s": round(secs[len(secs) // 2], 1), "p95_s": round(secs[min(len(secs) - 1, int(0.95 * len(secs)))], 1),
        "p50_s_by_kind": {k: round(v[len(v) // 2], 1) for k, v in by_kind.items() if v},
        "rss_before_mb": round(rss_before), "rss_peak_mb": round(max(peak)),
        "correct": sum(r["ok"] for r in results), "results": results,
    }
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    (ROOT / "test-artifacts" / "load.json").write_text(json.dumps(report, indent=1))
    print({k: v for k, v in report.items() if k != "results"})

    assert len(results) == SESSIONS // 2 * 3, results  # 4 sessions x 1 question + 4 sessions x 2 turns
    assert len([r for r in results if r["kind"].startswith("openai")]) == 2 + 2 * 2  # half the sessions
    assert not [r for r in results if r["error"]], results
    # answer quality is the eval's to measure (the Zatulin follow-up is a known miss in document mode: the
    # model quotes his "stakes are too high" line); here a wrong answer may not come from another session
    wrong = [r for r in results if not r["ok"]]
    assert len(wrong) <= 2 and all("Zatulin" in r["standalone"] for r in wrong), wrong
    # histories kept apart: every /chat session has its own conversation (an openai session sends its own
    # in `messages`), and every follow-up was rewritten from its own session's history
    convs = {r["session"]: r["conversation"] for r in results if r["kind"] == "chat"}
    assert len(set(convs.values())) == SESSIONS // 4
    subject = {turns[1][0]: turns[0][0].split()[-1].rstrip("?") for turns in CHATS}  # follow-up -> surname
    for r in results:
        if r["question"] in subject:
            assert subject[r["question"]] in r["standalone"], r
    assert max(peak) - rss_before < 1500, (rss_before, max(peak))  # memory bounded: one model, no per-session copies
