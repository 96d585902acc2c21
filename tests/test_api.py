"""The OpenAI-compatible API. Fast tier: the FastAPI app over a scripted model and the fake embedder
(TestClient, and the official `openai` client against the mounted app). Slow tier: the `openai` client
against a real `qa-bot serve` with the default model, one server for all of them."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from qa_bot.factory import build_bot
from qa_bot.fakes import ScriptedLLM
from qa_bot.llm.backends import BaseChatModel
from qa_bot.schema import Answer, Citation
from qa_bot.server.api import answer_part, closing_text, create_api, history_of
from qa_bot.server.app import build_app

from .conftest import PASSAGE_Q, SEEDS, WSJ
from .serving import free_port, running_server

Q = "When and where did Putin and Zelensky meet for the first time?"
PARIS = "They met in Paris in 2019 [1]."
INTERFACE_KEYS = {"question", "standalone_question", "answer", "refused", "citations", "retrieved", "model", "mode",
                  "timings"}


def api_client(settings, replies, tokens=(), llm=None) -> tuple[TestClient, ScriptedLLM]:
    llm = llm or ScriptedLLM(replies)
    bot = build_bot(settings, llm=llm)
    return TestClient(create_api(bot, list(tokens))), llm


def ask(client: TestClient, content: str = Q, **body) -> httpx.Response:
    return client.post("/v1/chat/completions", json={"model": "qa-bot", "messages": [
        {"role": "system", "content": "You are helpful."}, {"role": "user", "content": content}], **body})


def sse(response: httpx.Response) -> tuple[list[dict], bool]:
    """The chunks of a streamed reply, and whether it ended with [DONE]."""
    datas = [line[len("data: "):] for line in response.text.splitlines() if line.startswith("data: ")]
    return [json.loads(d) for d in datas if d != "[DONE]"], datas[-1] == "[DONE]"


def assert_verbatim(citation: dict) -> None:
    text = (SEEDS / citation["source"]).read_text(encoding="utf-8")
    assert text[citation["start"]: citation["end"]] == citation["quote"]


# ----- fast: the API over a scripted model


def test_answer_is_a_chat_completion_with_sources_and_the_answer_object(seeds_index_fake):
    client, _ = api_client(seeds_index_fake, [PARIS])
    r = ask(client, temperature=0.2, max_tokens=50, frequency_penalty=0, user="someone")  # unknown fields ignored
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int) and body["model"] == "scripted"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    qa = body["qa_bot"]
    assert INTERFACE_KEYS <= set(qa) and not qa["refused"] and qa["standalone_question"] == Q
    cite = qa["citations"][0]
    assert set(cite) == {"marker", "source", "title", "quote", "start", "end"} and cite["source"] == WSJ
    assert_verbatim(cite)
    content = choice["message"]["content"]
    assert content == f'{qa["answer"]}\n\nSources:\n[1] {cite["title"]}, "{cite["quote"]}"'
    use = body["usage"]
    assert use["prompt_tokens"] > 5 and use["completion_tokens"] > 10
    assert use["total_tokens"] == use["prompt_tokens"] + use["completion_tokens"]


def test_a_question_the_sources_do_not_answer_is_refused(seeds_index_fake):
    client, _ = api_client(seeds_index_fake, ["I cannot answer that from the sources."])
    body = ask(client, "What colour is the Kremlin's cat?").json()
    assert body["qa_bot"]["refused"] and body["qa_bot"]["citations"] == []
    assert body["choices"][0]["message"]["content"] == body["qa_bot"]["answer"]  # no sources list


def test_streamed_answer_then_a_last_chunk_with_sources_and_the_answer_object(seeds_index_fake):
    client, _ = api_client(seeds_index_fake, [PARIS])
    r = ask(client, stream=True)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    chunks, done = sse(r)
    assert done and all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    pieces = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    assert len([p for p in pieces[1:-1] if p]) > 3, "the model's words arrive as it writes them"
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop" and "qa_bot" in last and last["usage"]["total_tokens"] > 0
    assert all("qa_bot" not in c and c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    qa = last["qa_bot"]
    assert "".join(pieces[:-1]).strip() == qa["answer"]
    assert pieces[-1].startswith("\n\nSources:\n[1] ") and qa["citations"][0]["quote"] in pieces[-1]


def test_a_streamed_sentence_the_check_removes_is_corrected_in_the_last_chunk(seeds_index_fake):
    made_up = PARIS + " Putin then gave Zelensky a golden horse [1]."
    client, _ = api_client(seeds_index_fake, [made_up])
    chunks, _ = sse(ask(client, stream=True))
    streamed = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks[:-1])
    qa = chunks[-1]["qa_bot"]
    assert "horse" in streamed and "horse" not in qa["answer"] and qa["removed_sentences"]
    closing = chunks[-1]["choices"][0]["delta"]["content"]
    assert closing.startswith("\n\nChecked answer: " + qa["answer"]) and "Sources:" in closing


def test_markers_the_check_only_added_close_with_the_sources_alone():
    cite = Citation(1, WSJ, "WSJ", "The first and only time ...", 0, 10)
    ans = Answer(Q, Q, "They met in Paris in 2019 [1].", False, [cite])
    assert closing_text("They met in Paris in 2019.", ans) == '\n\nSources:\n[1] WSJ, "The first and only time ..."'
    assert closing_text("They met in Paris in 2019 [2].", ans).startswith("\n\nSources:")
    assert closing_text("They met in Paris in 2018 [1].", ans).startswith("\n\nChecked answer: They met in Paris in 2019")
    assert closing_text("", ans).startswith("They met in Paris in 2019 [1].\n\nSources:")


def test_follow_up_is_condensed_from_the_messages_history(seeds_index_fake):
    standalone = "In which year did Putin and Zelensky meet in Paris?"
    client, llm = api_client(seeds_index_fake, [standalone, "It was in 2019 [1]."])
    earlier = 'They met in Paris [1].\n\nSources:\n[1] Some title, "a quote"'
    r = client.post("/v1/chat/completions", json={"messages": [
        {"role": "user", "content": Q}, {"role": "assistant", "content": earlier},
        {"role": "user", "content": [{"type": "text", "text": "And which year was that?"}]}]})
    qa = r.json()["qa_bot"]
    condense_prompt = llm.calls[0][0]["content"]
    assert f"User: {Q}" in condense_prompt and "Assistant: They met in Paris [1]." in condense_prompt
    assert "Sources:" not in condense_prompt and "And which year was that?" in condense_prompt
    assert qa["question"] == "And which year was that?" and qa["standalone_question"] == standalone


def test_history_pairs_user_turns_with_the_replies_that_follow():
    turns = history_of([("user", "hi"), ("user", "q1"), ("assistant", "a1\n\nSources:\n[1] t, \"q\""),
                        ("assistant", "stray"), ("user", "q2"), ("assistant", "a2")])
    assert [(t.question, t.answer) for t in turns] == [("q1", "a1"), ("q2", "a2")]
    assert answer_part("raw [1].\n\nChecked answer: fixed [1].\n\nSources:\n[1] t, \"q\"") == "fixed [1]."


@pytest.mark.parametrize("body, param", [
    (b"{not json", None),
    (b"[1, 2]", None),
    (b'{"model": "x"}', "messages"),
    (b'{"messages": []}', "messages"),
    (b'{"messages": "hello"}', "messages"),
    (b'{"messages": [{"role": "system", "content": "be nice"}]}', "messages"),
    (b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}', "messages"),
    (b'{"messages": [{"role": "user", "content": 42}]}', "messages[0].content"),
    (b'{"messages": [{"role": "wizard", "content": "q"}]}', "messages[0].role"),
    (b'{"messages": ["q"]}', "messages[0]"),
    (b'{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}',
     "messages[0].content"),
    (b'{"messages": [{"role": "user", "content": "   "}]}', "messages"),
    (b'{"messages": [{"role": "user", "content": "q"}], "stream": "yes"}', "stream"),
    (b'{"messages": [{"role": "user", "content": "q"}], "max_tokens": true}', "max_tokens"),
    (b'{"messages": [{"role": "user", "content": "q"}], "temperature": "hot"}', "temperature"),
    (b'{"messages": [{"role": "user", "content": "q"}], "n": 2}', "n"),
])
def test_malformed_body_is_a_400_error_object_never_a_trace(seeds_index_fake, body, param):
    client, llm = api_client(seeds_index_fake, [PARIS])
    r = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["type"] == "invalid_request_error"
    assert err["param"] == param and err["message"] and "Traceback" not in r.text
    assert llm.calls == []


def test_domain_and_unexpected_errors_are_error_objects(seeds_index_fake):
    class Broken(BaseChatModel):
        name = "broken"

        def stream(self, messages, max_tokens=256, stop=None):
            raise RuntimeError("secret internals")
            yield ""

    client, _ = api_client(seeds_index_fake, [])
    r = ask(client, "\x01\x02")  # only control characters: the bot's own check finds it empty
    assert r.status_code == 400 and "empty" in r.json()["error"]["message"]
    client, _ = api_client(seeds_index_fake, [], llm=Broken())
    for stream in (False, True):
        r = ask(client, stream=stream)
        assert r.status_code == 500 and r.json()["error"]["type"] == "server_error"
        assert "secret internals" not in r.text and "Traceback" not in r.text


def test_bearer_token_is_required_when_login_is_on(seeds_index_fake):
    client, llm = api_client(seeds_index_fake, [PARIS], tokens=["wonderland", "other"])
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic wonderland"},
                    {"Authorization": "wonderland"}):
        for r in (client.get("/v1/models", headers=headers),
                  client.post("/v1/chat/completions", headers=headers, json={"messages": [{"role": "user", "content": Q}]})):
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
            assert r.headers["www-authenticate"] == "Bearer"
    assert llm.calls == []
    ok = client.post("/v1/chat/completions", headers={"Authorization": "Bearer wonderland"},
                     json={"messages": [{"role": "user", "content": Q}]})
    assert ok.status_code == 200 and ok.json()["qa_bot"]["citations"]


def test_models_lists_the_answering_model(seeds_index_fake):
    client, _ = api_client(seeds_index_fake, [])
    body = client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["scripted"]


def test_every_api_answer_is_in_the_audit_log(seeds_index_fake):
    client, _ = api_client(seeds_index_fake, [PARIS, PARIS])
    ask(client)
    ask(client, stream=True)
    records = [json.loads(line) for line in (seeds_index_fake.data_dir / "audit.jsonl").read_text().splitlines()]
    assert [r["question"] for r in records] == [Q, Q] and all(r["citations"] for r in records)


def test_answer_slots_are_shared_by_every_stream(seeds_index_fake):
    """concurrency = 1: a second answer (from any surface: they all call Bot.stream) waits for the slot."""
    bot = build_bot(seeds_index_fake.model_copy(update={"concurrency": 1}), llm=ScriptedLLM([PARIS, PARIS]))
    first = bot.stream(Q)
    assert isinstance(next(first), str)  # writing: holds the only slot
    second, got = bot.stream(Q), []
    waiter = threading.Thread(target=lambda: got.append(next(second)))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive() and got == [], "a second answer waits for a slot"
    first.close()  # a client that went away frees its slot at once
    waiter.join(10)
    assert len(got) == 1
    second.close()


# ----- fast: UI and API mounted together, the official client


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_ui_and_api_on_one_port_with_the_openai_and_gradio_clients(seeds_index_fake):
    from gradio_client import Client
    from openai import OpenAI

    bot = build_bot(seeds_index_fake, llm=ScriptedLLM([PARIS] * 3))
    app = build_app(bot, seeds_index_fake)
    with serving(app) as url:
        assert "<html" in httpx.get(url + "/").text.lower()  # the UI
        client = OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        done = client.chat.completions.create(model="qa-bot", messages=[{"role": "user", "content": Q}])
        assert "Paris" in done.choices[0].message.content and done.model == "scripted"
        assert done.to_dict()["qa_bot"]["citations"][0]["source"] == WSJ
        pieces = list(client.chat.completions.create(model="qa-bot", stream=True,
                                                     messages=[{"role": "user", "content": Q}]))
        assert pieces[-1].to_dict()["qa_bot"]["citations"] and pieces[-1].usage.total_tokens > 0
        assert [m.id for m in client.models.list()] == ["scripted"]
        out = Client(url + "/", verbose=False).predict(Q, api_name="/ask")  # gradio's own API still there
        assert out["citations"][0]["source"] == WSJ


def test_login_protects_ui_and_api_alike(seeds_index_fake):
    from openai import AuthenticationError, OpenAI

    s = seeds_index_fake.model_copy(update={"auth": "alice:wonderland"})
    app = build_app(build_bot(s, llm=ScriptedLLM([PARIS])), s)
    with serving(app) as url:
        assert httpx.get(url + "/config").status_code == 401  # nothing of the UI before login
        with pytest.raises(AuthenticationError):
            OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0).models.list()
        client = OpenAI(base_url=url + "/v1", api_key="wonderland", max_retries=0)
        assert [m.id for m in client.models.list()] == ["scripted"]


# ----- slow: the official client against a real `qa-bot serve` (default model), login on

TOKEN = "wonderland"


@pytest.fixture(scope="module")
def real_server(real_seeds_index, tmp_path_factory):
    with running_server(real_seeds_index.index_dir, tmp_path_factory.mktemp("api"),
                        env_extra={"QA_BOT_AUTH": f"alice:{TOKEN}"}) as srv:
        yield srv


@pytest.fixture(scope="module")
def openai_client(real_server):
    from openai import OpenAI

    return OpenAI(base_url=real_server["url"] + "v1", api_key=TOKEN, max_retries=0, timeout=600)


@pytest.mark.slow
def test_real_answer_plain_and_streamed_with_verbatim_citations(openai_client):
    question = PASSAGE_Q  # right from passages too (the prefix may still be read)
    done = openai_client.chat.completions.create(model="qa-bot", messages=[{"role": "user", "content": question}])
    qa = done.to_dict()["qa_bot"]
    assert not qa["refused"] and "2019" in qa["answer"] and any("2019" in c["quote"] for c in qa["citations"])
    for cite in qa["citations"]:
        assert_verbatim(cite)
    assert done.choices[0].message.content.startswith(qa["answer"]) and "\n\nSources:\n[1] " in done.choices[0].message.content
    assert done.model == qa["model"] and done.usage.completion_tokens > 0

    chunks = list(openai_client.chat.completions.create(
        model="qa-bot", stream=True, messages=[{"role": "user", "content": question}]))
    last = chunks[-1].to_dict()
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert len(chunks) > 5 and "2019" in streamed
    assert last["choices"][0]["finish_reason"] == "stop" and not last["qa_bot"]["refused"]
    for cite in last["qa_bot"]["citations"]:
        assert_verbatim(cite)


@pytest.mark.slow
def test_real_follow_up_resolved_from_the_messages_history(openai_client):
    done = openai_client.chat.completions.create(model="qa-bot", messages=[
        {"role": "user", "content": "Who is Olga Skabeyeva?"},
        {"role": "assistant", "content": "Olga Skabeyeva is the host of the Russian state TV show 60 Minutes [1]."},
        {"role": "user", "content": "What did she say about Zelensky's behavior during his White House visit?"}])
    qa = done.to_dict()["qa_bot"]
    assert "Skabeyeva" in qa["standalone_question"], qa["standalone_question"]
    assert not qa["refused"] and "schoolboy" in qa["answer"].lower()


@pytest.mark.slow
def test_real_refusal_401_400_and_models(openai_client, real_server):
    from openai import AuthenticationError, BadRequestError, OpenAI

    done = openai_client.chat.completions.create(
        model="qa-bot", messages=[{"role": "user", "content": "What is the population of Brazil?"}])
    qa = done.to_dict()["qa_bot"]
    assert qa["refused"] and qa["citations"] == [] and done.choices[0].message.content == qa["answer"]
    with pytest.raises(AuthenticationError):
        OpenAI(base_url=real_server["url"] + "v1", api_key="wrong", max_retries=0).chat.completions.create(
            model="qa-bot", messages=[{"role": "user", "content": "Who is Sergey Lavrov?"}])
    with pytest.raises(BadRequestError, match="user message"):
        openai_client.chat.completions.create(model="qa-bot", messages=[{"role": "system", "content": "hi"}])
    r = httpx.post(real_server["url"] + "v1/chat/completions", content=b"{oops",
                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert [m.id for m in openai_client.models.list()] == [done.model]
