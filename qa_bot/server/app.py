"""The served app: the Gradio layout and its wiring, mounted with the OpenAI-compatible API (api.py) on one
FastAPI app. Behaviour lives in chat.ChatApp and documents.DocumentService, HTML in render."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from qa_bot.server.assets import CSS, JS  # noqa: E402
from qa_bot.server.chat import ChatApp  # noqa: E402
from qa_bot.settings import Settings  # noqa: E402

EXAMPLES = [
    "When and where did Putin and Zelensky meet for the first time?",
    "What does Putin call Zelensky?",
    "Why could a meeting with Zelensky be risky for Putin?",
    "Who said the propaganda apparatus assumes society will accept any result?",
]

HEAD = f"<script>{JS}</script>"
THEME = gr.themes.Soft(primary_hue="indigo", neutral_hue="slate")


def browser_secret(data_dir: Path) -> str:
    """A stable key for gr.BrowserState, so a browser keeps its conversations across server restarts."""
    path = Path(data_dir) / "ui_secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def build_ui(bot, settings: Settings, ingestor=None) -> gr.Blocks:
    """The whole app as a Blocks object; never launches (see serve)."""
    app = ChatApp(bot, settings, ingestor)
    with gr.Blocks(title="qa-bot", analytics_enabled=False, fill_width=True) as demo:
        demo.qa_app = app  # type: ignore[attr-defined]  # handy for tests and serve
        browser_id = gr.BrowserState("", storage_key="qa_bot_browser", secret=browser_secret(settings.data_dir))
        session = gr.State(None)
        side = _sidebar(bot, settings)
        gr.HTML('<div class="qa-header"><h1>qa-bot</h1><p>Answers from your documents. Every claim carries a '
                'numbered citation that the code has checked against the source; click a number to see the '
                'passage.</p></div>')
        status = gr.Markdown(app.docs.status(), elem_classes="qa-small")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                chat = _chat_tab()
            with gr.Tab("Documents", id="docs"):
                docs = _documents_tab(app, settings)
        _wire_chat(demo, app, browser_id, session, side, chat)
        _wire_documents(app, docs, status)
        gr.api(app.ask, api_name="ask", api_description="Ask a question; returns the answer object with citations.")
        gr.api(app.chat_api, api_name="chat",
               api_description="Ask within a conversation: pass the returned `conversation` id with a follow-up.")
    return demo


def _sidebar(bot, settings: Settings) -> SimpleNamespace:
    with gr.Sidebar(open=True, width=300):
        gr.Markdown("### Conversations")
        new_btn = gr.Button("+ New conversation", variant="secondary", elem_id="qa-new")
        convs = gr.Radio([], label="Past conversations", show_label=False, elem_id="qa-convs", visible=False)
        gr.Markdown("### Settings")
        top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label="Passages per answer (top-k)",
                          info="More passages: more context for the model, slower answers.")
        gr.Markdown(f"Backend **{settings.llm_provider}** · model **{bot.model_name}**<br>"
                    f"Embedder **{settings.embed_model}**", elem_classes="qa-small")
    return SimpleNamespace(new_btn=new_btn, convs=convs, top_k=top_k)


def _chat_tab() -> SimpleNamespace:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chat = gr.Chatbot(
                label="Conversation", elem_id="qa-chat", height=560, layout="bubble",
                examples=[{"text": q} for q in EXAMPLES],
                placeholder="**Ask about your documents.** Try an example, or upload files in the Documents tab.",
                feedback_options=("Like", "Dislike"), buttons=["copy"],
            )
            with gr.Row():
                box = gr.Textbox(placeholder="Loading…", show_label=False, scale=1, interactive=False,
                                 elem_id="qa-question", autofocus=True, max_lines=6, container=False)
                send = gr.Button("Ask", variant="primary", scale=0, min_width=90, elem_id="qa-send")
                stop = gr.Button("Stop", variant="stop", scale=0, min_width=90, elem_id="qa-stop")
        with gr.Column(scale=2, elem_id="qa-sources-col"):
            gr.Markdown("### Sources")
            sources = gr.HTML(elem_id="qa-sources-panel", js_on_load=None)
    with gr.Accordion("Why this answer?", open=False, elem_id="qa-why"):
        why = gr.HTML(js_on_load=None)
    with gr.Accordion("Retrieved passages (debug)", open=False, elem_id="qa-debug"):
        debug = gr.HTML(js_on_load=None)
    return SimpleNamespace(chat=chat, box=box, send=send, stop=stop, sources=sources, why=why, debug=debug)


def _documents_tab(app: ChatApp, settings: Settings) -> SimpleNamespace:
    allowed = ", ".join(settings.allowed_extensions)
    gr.Markdown(f"Add documents ({allowed}; up to {settings.max_upload_mb:g} MB each). "
                "They are searchable as soon as they are indexed.")
    files = gr.File(file_count="multiple", file_types=list(settings.allowed_extensions),
                    label="Files to add", elem_id="qa-upload", height=150)
    add = gr.Button("Add to the index", variant="primary", elem_id="qa-add")
    report = gr.Markdown(elem_id="qa-upload-report")
    table = gr.Dataframe(app.docs.documents(), headers=["document", "title", "passages", "folder"],
                         interactive=False, label="Indexed documents", wrap=True, elem_id="qa-docs",
                         column_widths=["24%", "56%", "10%", "10%"])
    with gr.Row():
        pick = gr.Dropdown(choices=[r[0] for r in app.docs.documents()], label="Document", scale=3)
        view_btn = gr.Button("View text", scale=1)
        remove_btn = gr.Button("Remove from index", variant="stop", scale=1)
    viewer = gr.HTML(js_on_load=None)
    return SimpleNamespace(files=files, add=add, report=report, table=table, pick=pick, view_btn=view_btn,
                           remove_btn=remove_btn, viewer=viewer)


def _wire_chat(demo: gr.Blocks, app: ChatApp, browser_id, session, side: SimpleNamespace, c: SimpleNamespace) -> None:
    views = [c.chat, c.box, c.sources, c.why, c.debug]
    private: dict[str, Any] = {"api_visibility": "private"}
    demo.load(app.start, [browser_id], [browser_id, session, side.convs, *views], **private)
    outputs = [*views, session, side.convs]
    asked = [c.box, session, side.top_k]
    c.send.click(app.respond, asked, outputs, **private)
    c.box.submit(app.respond, asked, outputs, **private)
    c.chat.example_select(_example_text, None, c.box, **private).then(app.respond, asked, outputs, **private)
    c.stop.click(app.stop, [session], None, queue=False, **private)
    side.new_btn.click(app.new_conversation, [session], outputs, **private)
    side.convs.input(app.open_conversation, [side.convs, session], outputs, **private)
    c.chat.clear(app.new_conversation, [session], outputs, **private)
    c.chat.like(_on_like(app), [session], None, **private)


def _wire_documents(app: ChatApp, d: SimpleNamespace, status) -> None:
    private: dict[str, Any] = {"api_visibility": "private"}
    changed = [d.report, d.table, d.pick, status]
    d.add.click(_upload(app), [d.files], changed, **private).then(lambda: None, None, d.files, **private)
    d.remove_btn.click(app.docs.remove_document, [d.pick], changed, **private)
    d.view_btn.click(app.docs.view_document, [d.pick], [d.viewer], **private)


def _example_text(evt: gr.SelectData) -> str:
    return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)


def _on_like(app: ChatApp):
    def on_like(session: dict, evt: gr.LikeData) -> None:
        app.feedback(session, evt.index, evt.liked)

    return on_like


def _upload(app: ChatApp):
    def upload(files: list[str] | None, progress=gr.Progress()):  # noqa: B008 (gradio injects it here)
        return app.docs.upload(files, progress)

    return upload


def launch_options(settings: Settings) -> dict:
    """launch() arguments shared by serve() and the tests: local bind, no share link, no tracebacks."""
    from qa_bot.server.auth import auth_check, load_users

    data, index = Path(settings.data_dir).resolve(), Path(settings.index_dir).resolve()
    return dict(
        server_name=settings.host, server_port=settings.port, share=False, show_error=False,
        auth=auth_check(load_users(settings)), auth_message="qa-bot: please log in.",
        # gradio's hard cap is above ours so our handler can name the file and the limit
        max_file_size=f"{int(settings.max_upload_mb * 2) + 1}mb",
        blocked_paths=[str(data), str(index)], footer_links=["api"],
        theme=THEME, css=CSS, head=HEAD, ssr_mode=False, enable_monitoring=False,
    )


def build_app(bot, settings: Settings, ingestor=None):
    """One FastAPI app on one port: the OpenAI-compatible API (/v1/...) with the UI mounted at /.

    UI and API answers share the bot's `concurrency` answer slots (every answer goes through
    `Bot.stream`). Never launches (see serve)."""
    from qa_bot.server.api import create_api
    from qa_bot.server.auth import load_users

    demo = build_ui(bot, settings, ingestor)
    demo.queue(default_concurrency_limit=settings.concurrency)
    # the API's keys are the login passwords: one list of secrets to keep, not two
    app = create_api(bot, tokens=list(load_users(settings).values()))
    opts = {k: v for k, v in launch_options(settings).items() if k != "share"}  # mounting never shares
    app = gr.mount_gradio_app(app, demo, path="/", **opts)
    app.state.demo = demo  # handy for tests and serve
    return app


def serve(settings: Settings) -> None:
    """Build the real bot (the seeds go into an empty index), read ahead in the background, and serve
    UI and API until stopped."""
    import uvicorn

    from qa_bot.factory import build_ingestor
    from qa_bot.startup import open_bot, read_ahead_in_background

    bot = open_bot(settings, serving=True, echo=print)
    ingestor = build_ingestor(settings, embedder=bot.embedder, store=bot.retriever.store)
    app = build_app(bot, settings, ingestor)
    app.state.demo.qa_app.docs.warmer = read_ahead_in_background(bot)
    print(f"qa-bot: the UI on http://{settings.host}:{settings.port}/ , "
          f"the OpenAI-compatible API on http://{settings.host}:{settings.port}/v1", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
