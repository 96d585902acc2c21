"""Web UI handlers, called as plain functions (no server): fake embedder + scripted model on the seeds."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

from qa_bot.factory import build_bot, build_ingestor
from qa_bot.fakes import ScriptedLLM
from qa_bot.llm.backends import BaseChatModel
from qa_bot.server.app import build_ui, launch_options
from qa_bot.server.auth import auth_check, load_users
from qa_bot.server.chat import ChatApp
from qa_bot.server.sources import locate, paragraph_spans
from qa_bot.server.uploads import check_upload, sanitize_filename, store_upload

from .conftest import NYT, SEEDS, WSJ

Q = "When and where did Putin and Zelensky meet for the first time?"
PARIS = "They met in Paris in 2019 [1]."


def make_app(settings, replies, llm=None):
    bot = build_bot(settings, llm=llm or ScriptedLLM(replies))
    ingestor = build_ingestor(settings, embedder=bot.embedder, store=bot.retriever.store)
    return ChatApp(bot, settings, ingestor)


def run(gen):
    """All outputs of a streaming handler; the last one is what stays on the page."""
    outs = list(gen)
    assert outs, "the handler yielded nothing"
    return outs


@pytest.fixture
def app(seeds_index_fake):
    return make_app(seeds_index_fake, [PARIS])


def test_answer_streams_then_is_replaced_by_checked_answer_with_clickable_sources(app):
    _, session, *_ = app.start("browser-1")
    outs = run(app.respond(Q, session, 4))
    streaming = [o[0][-1]["content"] for o in outs[1:-1]]
    assert any("Paris" in c and "qa-cursor" in c for c in streaming), "pieces are shown while they arrive"
    chat, box, sources, why, debug, session, convs = outs[-1]
    final = chat[-1]["content"]
    assert "Paris" in final and "2019" in final and "qa-cursor" not in final
    assert '<a class="qa-cite" href="#qa-src-t1-1"' in final and box == ""
    rec = session["turns"][0]
    cite = rec["citations"][0]
    assert cite["source"] == WSJ
    text = (SEEDS / WSJ).read_text(encoding="utf-8")
    assert text[cite["start"] : cite["end"]] == cite["quote"]
    # the sources panel: the quote highlighted inside its paragraph, with title and location
    assert f'data-source="{WSJ}"' in sources and 'id="qa-src-t1-1"' in sources
    mark = re.search(r'<mark class="qa-quote qa-quote-1"[^>]*>(.*?)</mark>', sources, re.S)
    assert mark and mark.group(1).startswith("The first and only time")
    assert "Wall Street Journal" in sources
    assert f"paragraph {cite['paragraph']}, line {cite['line']}" in sources
    assert cite["line"] == text.count("\n", 0, cite["start"]) + 1
    assert len(re.sub(r"<[^>]+>", "", sources)) > len(cite["quote"]) + 40  # surrounding text, not just the quote
    # why view and debug view
    assert "✔ cited" in why and "BM25" in why and Q in why
    assert WSJ in debug and "fused" in debug
    assert convs["choices"] and convs["choices"][0][1] == session["conv"]


def test_refusal_is_shown_as_a_refusal_not_an_error(seeds_index_fake):
    app = make_app(seeds_index_fake, ["I cannot answer that from the sources."])
    _, session, *_ = app.start("b")
    chat, _, sources, *_ = run(app.respond("What colour is the Kremlin's cat?", session, 4))[-1]
    assert 'class="qa-refusal"' in chat[-1]["content"] and "No answer in the documents" in chat[-1]["content"]
    assert "qa-nosrc" in sources and "qa-quote" not in sources


def test_follow_up_uses_the_conversation(seeds_index_fake):
    llm = ScriptedLLM([PARIS, "In which year did Putin and Zelensky meet in Paris?", "It was in 2019 [1]."])
    app = make_app(seeds_index_fake, [], llm=llm)
    _, session, *_ = app.start("b")
    session = run(app.respond(Q, session, 4))[-1][5]
    session = run(app.respond("And which year was that?", session, 4))[-1][5]
    condense_prompt = llm.calls[1][0]["content"]
    assert "Paris" in condense_prompt and "And which year was that?" in condense_prompt
    assert session["turns"][1]["standalone_question"] == "In which year did Putin and Zelensky meet in Paris?"
    assert len(session["turns"]) == 2


def test_sessions_are_separate_and_conversations_belong_to_their_owner(seeds_index_fake):
    llm = ScriptedLLM([PARIS, PARIS])
    app = make_app(seeds_index_fake, [], llm=llm)
    _, a, *_ = app.start("browser-a")
    _, b, *_ = app.start("browser-b")
    a = run(app.respond(Q, a, 4))[-1][5]
    b_out = run(app.respond(Q, b, 4))[-1]
    b = b_out[5]
    assert len(llm.calls) == 2, "B's first question is not treated as A's follow-up (no condense call)"
    assert len(a["turns"]) == 1 and len(b["turns"]) == 1 and a["conv"] != b["conv"]
    assert [c[1] for c in app.conversation_choices(b)["choices"]] == [b["conv"]]
    # B cannot open A's conversation even with its id
    chat, *_, b_after, _ = app.open_conversation(a["conv"], b)
    assert b_after["conv"] == b["conv"] and len(chat) == 2
    assert app.conversations.turns(b["owner"], a["conv"]) is None


def test_conversations_survive_a_restart_and_can_be_reopened(seeds_index_fake):
    app = make_app(seeds_index_fake, [PARIS])
    _, s, *_ = app.start("browser-x")
    s = run(app.respond(Q, s, 4))[-1][5]
    app.conversations.close()
    app2 = make_app(seeds_index_fake, [])  # a new server process on the same data_dir
    out = app2.start("browser-x")
    _, fresh, convs = out[:3]
    assert out[4]["interactive"] is True, "the question box unlocks once the session exists"
    assert fresh["turns"] == [] and [c[1] for c in convs["choices"]] == [s["conv"]]
    chat, _, sources, _, _, reopened, _ = app2.open_conversation(s["conv"], fresh)
    assert len(reopened["turns"]) == 1 and "Paris" in chat[-1]["content"] and "qa-quote-1" in sources
    # another browser does not see it; a logged-in user has their own list
    assert app2.start("browser-y")[2]["choices"] == []

    class Req:
        username = "alice"

    assert app2.start("browser-x", Req())[1]["owner"] == "user:alice"
    assert app2.start("browser-x", Req())[2]["choices"] == []


def test_new_conversation_clears_the_page_but_keeps_the_history_list(app):
    _, s, *_ = app.start("b")
    s = run(app.respond(Q, s, 4))[-1][5]
    chat, box, sources, why, debug, s2, convs = app.new_conversation(s)
    assert chat == [] and s2["turns"] == [] and s2["conv"] is None and "Sources appear here" in sources
    assert len(convs["choices"]) == 1


class Endless(BaseChatModel):
    """A model that would write for a long time; records how far it got."""

    name = "endless"

    def __init__(self):
        self.produced = 0
        self.closed = False

    def stream(self, messages, max_tokens=256, stop=None):
        try:
            for _ in range(10_000):
                self.produced += 1
                yield "Paris "
        finally:
            self.closed = True


def test_stop_button_stops_generation(seeds_index_fake):
    llm = Endless()
    app = make_app(seeds_index_fake, [], llm=llm)
    _, s, *_ = app.start("b")
    gen = app.respond(Q, s, 4)
    next(gen)
    next(gen)  # first piece on screen
    app.stop(s)  # the Stop button's handler, from another request
    outs = list(gen)
    assert llm.produced < 10 and llm.closed
    final = outs[-1][5]["turns"][-1]
    assert "stopped by user" in final["notice"]
    assert "stopped by user" in outs[-1][0][-1]["content"]


def test_empty_question_warns_and_bad_backend_shows_no_traceback(app):
    _, s, *_ = app.start("b")
    outs = run(app.respond("   ", s, 4))
    assert outs[-1][5]["turns"] == []

    class Broken(BaseChatModel):
        name = "broken"

        def stream(self, *a, **k):
            raise ZeroDivisionError("secret internals")
            yield ""

    app.bot.llm = Broken()
    chat, box, *_ = run(app.respond(Q, s, 4))[-1]
    page = json.dumps(chat)
    assert "Traceback" not in page and "secret internals" not in page and box == Q


def test_top_k_slider_limits_passages(app):
    _, s, *_ = app.start("b")
    s = run(app.respond(Q, s, 2))[-1][5]
    assert len(s["turns"][0]["retrieved"]) == 2


def test_feedback_is_appended_to_jsonl(app):
    _, s, *_ = app.start("b")
    s = run(app.respond(Q, s, 4))[-1][5]
    app.feedback(s, 1, True)
    app.feedback(s, 1, "Dislike")
    app.feedback(s, 7, True)  # no such message: ignored
    lines = (Path(app.s.data_dir) / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    recs = [json.loads(x) for x in lines]
    assert [r["vote"] for r in recs] == ["up", "down"]
    assert recs[0]["question"] == Q and "Paris" in recs[0]["answer"] and recs[0]["citations"][0]["source"] == WSJ
    assert recs[0]["time"]


def test_upload_checks_type_and_size_and_names_the_file(app, tmp_path):
    app.s.max_upload_mb = 0.001  # 1 kB
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    empty = tmp_path / "empty.md"
    empty.write_text("")
    binary = tmp_path / "fake.txt"
    binary.write_bytes(b"\x00\x01\x02 binary")
    report, table, *_ = app.docs.upload([str(exe), str(big), str(empty), str(binary)])
    assert "tool.exe" in report and "'.exe' is not accepted" in report
    assert "big.txt" in report and "over the 0.001 MB upload limit" in report
    assert "empty.md" in report and "empty" in report
    assert "fake.txt" in report and "binary" in report
    assert len(table) == 2
    assert not list(app.uploads.glob("*")) if app.uploads.exists() else True


def test_upload_is_stored_sanitised_indexed_and_searchable_at_once_then_removable(app, tmp_path):
    src = tmp_path / "My Llama notes!.txt"
    src.write_text("Llamas of qa-bot\n\nThe qa-bot test llama is named Bartholomew and lives in Tromsø.\n", encoding="utf-8")
    report, table, choices, status = app.docs.upload([str(src)])
    stored = app.uploads / "My_Llama_notes.txt"
    assert stored.is_file() and "✓" in report and "My_Llama_notes.txt" in report
    assert ["My_Llama_notes.txt", "Llamas of qa-bot", 1, "uploaded"] in table
    assert "3 documents" in status and "My_Llama_notes.txt" in choices["choices"]
    hits = app.bot.retriever.retrieve("What is the test llama named?").hits
    assert hits and hits[0].chunk.source == "My_Llama_notes.txt"
    assert hits[0].bm25 is not None, "BM25 was rebuilt, so keyword search finds the upload too"
    app.bot.llm = ScriptedLLM(["The test llama is named Bartholomew and lives in Tromsø [1]."])
    _, s, *_ = app.start("b")
    s = run(app.respond("What is the qa-bot test llama named?", s, 4))[-1][5]
    assert s["turns"][0]["citations"][0]["source"] == "My_Llama_notes.txt"
    report, table, *_ = app.docs.remove_document("My_Llama_notes.txt")
    assert "Removed" in report and not stored.exists() and len(table) == 2
    assert all(h.chunk.source != "My_Llama_notes.txt" for h in app.bot.retriever.retrieve("llama Bartholomew").hits)


def test_sanitize_filename_and_store_upload_stay_in_the_uploads_folder(tmp_path):
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("..\\..\\evil.TXT") == "evil.txt"
    assert sanitize_filename("notes; rm -rf ~.md") == "notes_rm_-rf.md"
    assert sanitize_filename(".hidden.txt") == "hidden.txt"
    assert sanitize_filename("Tromsø rapport.txt") == "Tromsø_rapport.txt"
    assert sanitize_filename("") == "upload"
    assert len(sanitize_filename("a" * 500 + ".txt")) <= 104
    src = tmp_path / "x.txt"
    src.write_text("one")
    uploads = tmp_path / "uploads"
    first = store_upload(src, "../../x.txt", uploads)
    assert first == uploads / "x.txt"
    assert store_upload(src, "x.txt", uploads) == first  # same bytes: same document
    src.write_text("two")
    assert store_upload(src, "x.txt", uploads) == uploads / "x-2.txt"  # different bytes: not clobbered
    assert sorted(p.name for p in tmp_path.rglob("*.txt")) == ["x-2.txt", "x.txt", "x.txt"]


def test_source_viewer_serves_only_indexed_text(app, tmp_path):
    for evil in ["../../etc/passwd", "/etc/passwd", f"../seeds/{WSJ}", str(SEEDS / WSJ), "", "..", "manifest.json"]:
        assert "Not an indexed document" in app.docs.view_document(evil), evil
        assert app.library.find(evil) is None
    page = app.docs.view_document(WSJ)
    assert "Illegitimate Puppet" in page and "first and only time" in page
    assert app.library.text("no-such-doc") is None
    # a file changed on disk after indexing: the viewer still shows the indexed text, not the new bytes
    doc = tmp_path / "changing.txt"
    doc.write_text("Original indexed words about ferries.\n", encoding="utf-8")
    app.ingestor.run([doc], progress=False)
    doc.write_text("SECRET new content never indexed.\n", encoding="utf-8")
    page = app.docs.view_document("changing.txt")
    assert "ferries" in page and "SECRET" not in page


def test_source_text_is_the_indexed_text_when_the_loader_reads_the_file_differently_now(app, tmp_path, monkeypatch):
    """Same bytes, new loader (DOCX tables are read since session 38): the indexed text keeps citation offsets right."""
    import qa_bot.server.sources as sources

    doc = tmp_path / "table.txt"
    doc.write_text("Apples are red.\n\nFigs are sweet and grow on warm walls.\n", encoding="utf-8")
    app.ingestor.run([doc], progress=False)
    doc_id = next(e.doc_id for e in app.library.entries().values() if e.source == "table.txt")
    real = sources.load_file

    def with_a_table(*a, **k):
        d = real(*a, **k)
        return replace(d, text="Fruit | Price\n" + d.text)

    monkeypatch.setattr(sources, "load_file", with_a_table)
    text = app.library.text(doc_id)
    chunks = app.bot.retriever.store.doc_chunks(doc_id)  # what the viewer compares: no vectors fetched
    assert chunks == app.bot.retriever.store.doc_vectors(doc_id)[0]
    assert chunks and all(text[c.start : c.end] == c.text for c in chunks)
    assert not text.startswith("Fruit")


def test_locate_lines_and_paragraphs():
    text = "Title\n\nFirst para line one.\nline two has the quote here.\n\nSecond para."
    s = text.index("the quote")
    loc = locate(text, s, s + 9)
    assert (loc.line, loc.paragraph) == (4, 2)
    assert text[loc.context_start : loc.context_end] == "First para line one.\nline two has the quote here."
    nyt = (SEEDS / NYT).read_text(encoding="utf-8")
    assert len(paragraph_spans(nyt)) > 10  # one paragraph per line when there are no blank lines
    s = nyt.index("Mr. Zatulin said some Russian officials")
    loc = locate(nyt, s, s + 20)
    assert loc.paragraph == loc.line - 3  # three blank lines open the file
    long = "word " * 1000
    loc = locate(long, 2500, 2510)
    assert loc.cut_before and loc.cut_after and loc.context_end - loc.context_start < 1400


def test_ask_api_returns_the_answer_object(app):
    out = app.ask(Q)
    assert out["citations"][0]["source"] == WSJ and "Paris" in out["answer"] and out["refused"] is False
    assert set(out) >= {"question", "standalone_question", "answer", "refused", "citations", "retrieved", "model", "timings"}
    with pytest.raises(gr.Error, match="empty"):
        app.ask("  ")


class _Req:
    def __init__(self, session_hash, username=None):
        self.session_hash, self.username = session_hash, username


def test_chat_api_follow_up_uses_only_its_own_conversation(seeds_index_fake):
    llm = ScriptedLLM([PARIS, "Where did they meet in 2019?", "In Paris [1]."])
    app = make_app(seeds_index_fake, [], llm=llm)
    first = app.chat_api(Q, "", _Req("client-a"))
    assert first["conversation"] and "Paris" in first["answer"] and not first["refused"]
    follow = app.chat_api("Where was that?", first["conversation"], _Req("client-a"))
    assert follow["conversation"] == first["conversation"]
    assert follow["standalone_question"] == "Where did they meet in 2019?"
    assert Q in json.dumps(llm.calls[1])  # the rewrite saw client A's first question
    assert [t["question"] for t in app.conversations.turns("browser:api:client-a", first["conversation"])] == [
        Q, "Where was that?"]
    with pytest.raises(gr.Error, match="not available"):  # client B cannot continue A's conversation
        app.chat_api("And then?", first["conversation"], _Req("client-b"))
    with pytest.raises(gr.Error, match="empty"):
        app.chat_api("   ", "", _Req("client-b"))


def test_login_settings(tmp_path, settings_fake):
    f = tmp_path / "users"
    f.write_text("# team\nbob:pa:ss\n\n", encoding="utf-8")
    s = settings_fake.model_copy(update={"auth": "alice:secret", "auth_file": f})
    users = load_users(s)
    assert users == {"alice": "secret", "bob": "pa:ss"}
    check = auth_check(users)
    assert check("alice", "secret") and check("bob", "pa:ss")
    assert not check("alice", "wrong") and not check("mallory", "secret") and not check("bob", "")
    assert auth_check(load_users(settings_fake)) is None
    with pytest.raises(Exception, match="user:password"):
        load_users(settings_fake.model_copy(update={"auth": "nopassword"}))


def test_launch_options_are_safe_by_default(settings_fake):
    opts = launch_options(settings_fake)
    assert opts["server_name"] == "127.0.0.1" and opts["server_port"] == 7860
    assert opts["share"] is False and opts["show_error"] is False and opts["auth"] is None
    assert str(Path(settings_fake.data_dir).resolve()) in opts["blocked_paths"]
    import os

    assert os.environ.get("GRADIO_ANALYTICS_ENABLED") == "False"


def test_check_upload_accepts_allowed_types(settings_fake, tmp_path):
    ok = tmp_path / "a.MD"
    ok.write_text("# hi\n\ntext")
    assert check_upload(ok, "a.MD", settings_fake) is None


def test_build_ui_does_not_launch_and_exposes_ask(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=ScriptedLLM([PARIS]))
    demo = build_ui(bot, seeds_index_fake)
    assert isinstance(demo, gr.Blocks) and not demo.is_running
    assert list(demo.get_api_info()["named_endpoints"]) == ["/ask", "/chat"]


def test_ask_endpoint_with_gradio_client(seeds_index_fake):
    """The real HTTP API in-process (fast: fake embedder, scripted model)."""
    from gradio_client import Client

    bot = build_bot(seeds_index_fake, llm=ScriptedLLM([PARIS] * 3))
    demo = build_ui(bot, seeds_index_fake)
    demo.queue(default_concurrency_limit=2)
    opts = {**launch_options(seeds_index_fake), "server_port": None, "prevent_thread_lock": True, "quiet": True}
    demo.launch(**opts)
    try:
        client = Client(demo.local_url, verbose=False)
        out = client.predict(Q, api_name="/ask")
        assert out["citations"][0]["source"] == WSJ and "Paris" in out["answer"]
        with pytest.raises(Exception, match="empty"):
            client.predict("", api_name="/ask")
    finally:
        demo.close()


def test_concurrent_stops_do_not_cross_sessions(seeds_index_fake):
    llm = Endless()
    app = make_app(seeds_index_fake, [], llm=llm)
    _, a, *_ = app.start("a")
    _, b, *_ = app.start("b")
    gen = app.respond(Q, a, 4)
    next(gen)
    next(gen)
    app.stop(b)  # B pressing Stop must not stop A's answer
    assert not app._stops[a["sid"]].is_set()
    app.stop(a)
    list(gen)
    assert llm.produced < 10 and llm.closed


def test_login_protects_the_page_and_the_api(seeds_index_fake):
    from gradio_client import Client

    s = seeds_index_fake.model_copy(update={"auth": "alice:wonderland"})
    bot = build_bot(s, llm=ScriptedLLM([PARIS]))
    demo = build_ui(bot, s)
    demo.queue(default_concurrency_limit=2)
    demo.launch(**{**launch_options(s), "server_port": None, "prevent_thread_lock": True, "quiet": True})
    try:
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError, match="401"):  # nothing of the app before login
            urllib.request.urlopen(demo.local_url + "config")
        with pytest.raises(Exception):  # noqa: B017 (gradio_client raises a plain ValueError here)
            Client(demo.local_url, verbose=False)
        with pytest.raises(Exception):  # noqa: B017
            Client(demo.local_url, auth=("alice", "wrong"), verbose=False)
        out = Client(demo.local_url, auth=("alice", "wonderland"), verbose=False).predict(Q, api_name="/ask")
        assert out["citations"][0]["source"] == WSJ
    finally:
        demo.close()
