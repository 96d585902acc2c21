"""The web UI's chat behaviour as plain methods: each one is a Gradio event handler, testable without a server.
Documents (uploads, removal, the viewer) are the DocumentService's (server/documents.py).

Per-browser state is a plain dict kept in gr.State (never on this shared object):
{"sid": page session id, "owner": "user:<login>" | "browser:<id>", "conv": conversation id | None,
 "turns": [turn records]}. Only the stop-event registry is shared, keyed by sid.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import cast

import gradio as gr

from qa_bot.audit import JsonlLog
from qa_bot.bot import Bot, Turn
from qa_bot.errors import QaBotError
from qa_bot.schema import Answer
from qa_bot.server.conversations import ConversationStore
from qa_bot.server.documents import DocumentService
from qa_bot.server.render import chat_messages, debug_html, sources_html, turn_record, why_html
from qa_bot.server.sources import SourceLibrary
from qa_bot.settings import Settings

log = logging.getLogger(__name__)
GENERIC_ERROR = "Something went wrong on the server; the details are in its log."


def owner_for(request, browser_id: str) -> str:
    """Conversations belong to the logged-in user when login is on, else to the browser."""
    user = getattr(request, "username", None) if request is not None else None
    return f"user:{user}" if user else f"browser:{browser_id}"


class ChatApp:
    def __init__(self, bot: Bot, settings: Settings, ingestor=None, conversations: ConversationStore | None = None):
        self.bot = bot
        self.s = settings
        self.ingestor = ingestor
        data = Path(settings.data_dir)
        self.uploads = data / "uploads"
        self.library = SourceLibrary(
            settings.index_dir, bot.retriever.store, settings.allowed_extensions, int(settings.max_file_mb * 1e6)
        )
        self.conversations = conversations or ConversationStore(data / "conversations.db")
        self.feedback_log = JsonlLog(data / "feedback.jsonl", int(settings.audit_max_mb * 1e6))
        self._stops: dict[str, threading.Event] = {}
        self.docs = DocumentService(bot, settings, ingestor, self.library, self.uploads)

    # ----- sessions and conversations

    def new_session(self, owner: str | None = None) -> dict:
        sid = uuid.uuid4().hex
        return {"sid": sid, "owner": owner or f"page:{sid}", "conv": None, "turns": []}

    def start(self, browser_id: str | None, request: gr.Request | None = None):
        """Page load: a browser id (kept in the browser), a fresh session, the owner's past conversations."""
        browser_id = browser_id or uuid.uuid4().hex
        session = self.new_session(owner_for(request, browser_id))
        chat, _, *panels = self._views(session)
        # the question box stays locked until here, so no question is asked before the session exists
        box = gr.update(value="", interactive=True, placeholder="Ask a question…")
        return (browser_id, session, self.conversation_choices(session), chat, box, *panels)

    def conversation_choices(self, session: dict):
        items = self.conversations.recent(session["owner"])
        choices = [(f"{c.title} · {time.strftime('%d %b %H:%M', time.localtime(c.updated))}", c.id) for c in items]
        return gr.update(choices=choices, value=session["conv"], visible=bool(choices))

    def _views(self, session: dict, textbox: str = "") -> tuple:
        turns = session["turns"]
        return chat_messages(turns), textbox, sources_html(turns), why_html(turns), debug_html(turns)

    def new_conversation(self, session: dict | None):
        session = {**(session or self.new_session()), "conv": None, "turns": []}
        return (*self._views(session), session, self.conversation_choices(session))

    def open_conversation(self, conv_id: str | None, session: dict | None):
        session = session or self.new_session()
        if not conv_id or conv_id == session["conv"]:
            return (*self._views(session), session, gr.update())
        turns = self.conversations.turns(session["owner"], conv_id)
        if turns is None:  # not this owner's: behave as if it did not exist
            gr.Warning("That conversation is not available.")
            return (*self._views(session), session, self.conversation_choices(session))
        session = {**session, "conv": conv_id, "turns": turns}
        return (*self._views(session), session, gr.update())

    # ----- chat

    def respond(self, message: str, session: dict | None, top_k: int | None = None) -> Iterator[tuple]:
        """Stream an answer: outputs (chat, textbox, sources, why, debug, session, conversation list)."""
        session = session or self.new_session()
        turns = session["turns"]
        if not (message or "").strip():
            gr.Warning("Type a question first.")
            yield (*self._views(session, message), session, gr.update())
            return
        stop = threading.Event()
        self._stops[session["sid"]] = stop
        history = [Turn(r["standalone_question"], r["answer"]) for r in turns]
        partial = ""
        answer: Answer | None = None
        stream = cast(Generator, self.bot.stream(message, history, stop=stop, top_k=int(top_k) if top_k else None))
        try:
            yield chat_messages(turns, message), "", *self._views(session)[2:], session, gr.update()
            for event in stream:
                if isinstance(event, Answer):
                    answer = event
                else:
                    partial += event
                    yield chat_messages(turns, message, partial), "", *self._views(session)[2:], session, gr.update()
        except QaBotError as e:
            gr.Warning(str(e))
        except Exception:
            log.exception("answering failed")
            gr.Warning(GENERIC_ERROR)
        finally:
            stream.close()  # releases the model at once if the page went away mid-answer
            self._stops.pop(session["sid"], None)
        if answer is None:
            yield (*self._views(session, message), session, gr.update())
            return
        session = {**session, "turns": [*turns, turn_record(answer, self.library)]}
        session["conv"] = self._save(session, message)
        yield (*self._views(session), session, self.conversation_choices(session))

    def _save(self, session: dict, question: str) -> str | None:
        try:
            conv = session["conv"] or self.conversations.create(session["owner"], question)
            self.conversations.append(session["owner"], conv, session["turns"][-1])
            return conv
        except Exception:  # losing the history must not lose the answer on screen
            log.exception("saving the conversation failed")
            return session["conv"]

    def stop(self, session: dict | None) -> None:
        ev = self._stops.get((session or {}).get("sid", ""))
        if ev is not None:
            ev.set()

    def feedback(self, session: dict | None, index, liked) -> None:
        """👍/👎 on an assistant message (index into the chat's messages) -> feedback.jsonl."""
        turns = (session or {}).get("turns", [])
        i = (index[0] if isinstance(index, (list, tuple)) else int(index)) // 2
        if liked is None or not 0 <= i < len(turns):
            return
        vote = "up" if liked is True or str(liked).lower() in ("like", "up", "👍") else (
            "down" if liked is False or str(liked).lower() in ("dislike", "down", "👎") else str(liked))
        rec = turns[i]
        self.feedback_log.append({
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "vote": vote, "question": rec["question"],
            "answer": rec["answer"], "refused": rec["refused"], "model": rec["model"],
            "citations": [{k: c[k] for k in ("marker", "source", "quote", "start", "end")} for c in rec["citations"]],
            "conversation": (session or {}).get("conv"),
        })
        gr.Info("Thanks, your feedback was recorded.")

    def ask(self, question: str) -> dict:
        """The public /ask API: a question in, the INTERFACE answer object out."""
        return self._api_answer("/ask", question, []).to_dict()

    def _api_answer(self, endpoint: str, question: str, history: list[Turn]) -> Answer:
        """One answer for an API endpoint: domain errors as their message, anything else logged, never a trace."""
        try:
            return self.bot.ask(question, history)
        except QaBotError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception:
            log.exception("%s failed", endpoint)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from None

    def chat_api(self, question: str, conversation: str = "", request: gr.Request | None = None) -> dict:
        """The public /chat API: the answer object plus `conversation`, the id to pass with a follow-up.

        Conversations belong to the API client's session (gradio_client keeps one per Client), so a
        client can continue only its own; the follow-up is rewritten from that conversation alone."""
        session_hash = getattr(request, "session_hash", None) or "anonymous"
        owner = owner_for(request, f"api:{session_hash}")
        turns: list[dict] = []
        if conversation:
            found = self.conversations.turns(owner, conversation)
            if found is None:
                raise gr.Error("That conversation is not available.", print_exception=False)
            turns = found
        history = [Turn(r["standalone_question"], r["answer"]) for r in turns]
        answer = self._api_answer("/chat", question, history)
        session = {"owner": owner, "conv": conversation or None, "turns": [*turns, turn_record(answer, self.library)]}
        return {**answer.to_dict(), "conversation": self._save(session, question)}
