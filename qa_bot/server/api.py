"""The OpenAI-compatible API beside the web UI: `POST /v1/chat/completions` and `GET /v1/models`.

A thin layer over the same Bot as the UI. The reply's text reads well in any chat client (the checked
answer with its `[n]` markers, then its sources); the INTERFACE answer object rides along in a top-level
`qa_bot` field that clients ignore and scripts read. Errors are OpenAI-style error objects, never traces.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from qa_bot.bot import Bot, Turn
from qa_bot.errors import BadQuestionError, QaBotError
from qa_bot.schema import Answer

log = logging.getLogger(__name__)

SERVER_ERROR = "Something went wrong on the server; the details are in its log."
SOURCES = "\n\nSources:\n"
CHECKED = "\n\nChecked answer: "  # a streamed text the check changed is followed by the checked one
_ROLES_USED = ("user", "assistant")
_ROLES_IGNORED = ("system", "developer", "tool")  # qa-bot's own prompt decides how to answer
_WORDISH = re.compile(r"\w+|[^\w\s]")
_MARKERS = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")


class ApiError(Exception):
    """An error answered as OpenAI does: `{"error": {"message", "type", "param", "code"}}`."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def domain_error(e: Exception) -> ApiError:
    """A failure while answering as the error object a client sees (anything unexpected is logged only)."""
    if isinstance(e, BadQuestionError):
        return ApiError(400, str(e), param="messages")
    if isinstance(e, QaBotError):
        return ApiError(503, str(e), kind="server_error", code="qa_bot_error")
    log.error("/v1/chat/completions failed", exc_info=e)
    return ApiError(500, SERVER_ERROR, kind="server_error")


# ----- the request


@dataclass
class ChatRequest:
    """What qa-bot takes from a chat completion request: the question, the conversation before it."""

    question: str
    history: list[Turn]
    stream: bool
    prompt_text: str  # every message's text, for `usage.prompt_tokens`


def parse_request(raw: bytes) -> ChatRequest:
    """The request body checked; unknown fields ignored, anything malformed an ApiError(400)."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    _check_options(body)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "`messages` must be a non-empty list of messages.", param="messages")
    said = [_message(i, m) for i, m in enumerate(messages)]
    dialogue = [(role, text) for role, text in said if role in _ROLES_USED]
    if not dialogue or dialogue[-1][0] != "user":
        raise ApiError(400, "The last user or assistant message must be a user message: the question.",
                       param="messages")
    question = dialogue[-1][1]
    if not question.strip():
        raise ApiError(400, "The question (the last user message) is empty.", param="messages")
    return ChatRequest(question, history_of(dialogue[:-1]), bool(body.get("stream", False)),
                       "\n".join(text for _, text in said))


def _check_options(body: dict) -> None:
    """The standard options qa-bot accepts; the server's settings, not these, shape the answer."""
    expected: dict[str, tuple[type, ...]] = {
        "model": (str,), "stream": (bool,), "max_tokens": (int,), "max_completion_tokens": (int,),
        "temperature": (int, float), "top_p": (int, float), "n": (int,),
    }
    for name, types in expected.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool) and bool not in types):
            kind = " or ".join(t.__name__ for t in types)
            raise ApiError(400, f"`{name}` must be {kind}.", param=name)
    if body.get("n") not in (None, 1):
        raise ApiError(400, "Only one choice (`n`: 1) is supported.", param="n")


def _message(i: int, m: Any) -> tuple[str, str]:
    """(role, text) of one message; text parts joined, other parts refused."""
    param = f"messages[{i}]"
    if not isinstance(m, dict):
        raise ApiError(400, f"{param} must be an object with `role` and `content`.", param=param)
    role, content = m.get("role"), m.get("content")
    if role not in _ROLES_USED + _ROLES_IGNORED:
        raise ApiError(400, f"{param}.role must be one of {', '.join(_ROLES_USED + _ROLES_IGNORED)}.",
                       param=f"{param}.role")
    if content is None and role != "user":
        return role, ""  # an assistant turn that only called tools
    if isinstance(content, str):
        return role, content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text"
                                         and isinstance(p.get("text"), str) for p in content):
        return role, "\n".join(p["text"] for p in content)
    raise ApiError(400, f"{param}.content must be a string or a list of text parts.", param=f"{param}.content")


def history_of(dialogue: list[tuple[str, str]]) -> list[Turn]:
    """Earlier turns: each user message with the assistant reply that follows it (a user message
    left without a reply is dropped), the reply without the sources list this API appended."""
    turns: list[Turn] = []
    asked: str | None = None
    for role, text in dialogue:
        if role == "user":
            asked = text
        elif asked is not None:
            turns.append(Turn(asked, answer_part(text)))
            asked = None
    return turns


def answer_part(content: str) -> str:
    """The answer in an earlier reply of ours: the checked text when there is one, without its sources."""
    text = content.rsplit(CHECKED, 1)[-1]
    return text.split(SOURCES, 1)[0].strip()


# ----- the response


def sources_text(ans: Answer) -> str:
    """The citations as plain lines after the answer: `[1] title, "quote"`."""
    if not ans.citations:
        return ""
    return SOURCES + "\n".join(f'[{c.marker}] {c.title or c.source}, "{c.quote}"' for c in ans.citations)


def content_of(ans: Answer) -> str:
    return ans.answer + sources_text(ans)


def count_tokens(bot: Bot, text: str) -> int:
    """The answering model's own count; an estimate (words and punctuation) when it has no tokenizer."""
    counted = bot.llm.count_tokens(text) if bot.llm is not None else None
    return counted if counted is not None else len(_WORDISH.findall(text))


def usage(bot: Bot, req: ChatRequest, content: str) -> dict[str, int]:
    prompt, completion = count_tokens(bot, req.prompt_text), count_tokens(bot, content)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(ans: Answer, cid: str, created: int, use: dict[str, int]) -> dict[str, Any]:
    """A `chat.completion` with the answer object in `qa_bot`."""
    return {
        "id": cid, "object": "chat.completion", "created": created, "model": ans.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content_of(ans)},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": use, "qa_bot": ans.to_dict(),
    }


def chunk(cid: str, created: int, model: str, delta: dict, finish: str | None = None, **extra: Any) -> str:
    """One server-sent event holding a `chat.completion.chunk`."""
    data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def closing_text(streamed: str, ans: Answer) -> str:
    """What the last chunk adds to the streamed text: the sources, and the checked answer itself when
    the check changed its words (a sentence removed, a refusal, source sentences instead). Markers the
    check only added or renumbered do not count: the sources' quotes show what each one supports."""
    if not streamed:
        return content_of(ans)
    if _words(streamed) == _words(ans.answer):
        return sources_text(ans)
    return CHECKED + content_of(ans)


def _words(text: str) -> str:
    return " ".join(_MARKERS.sub(" ", text).split()).replace(" .", ".").replace(" ,", ",")


def sse_events(bot: Bot, req: ChatRequest, first: str | Answer, events: Generator[str | Answer, None, None],
               cid: str, created: int) -> Iterator[str]:
    """The streamed reply: a role chunk, the model's pieces as written, the checked close, `[DONE]`."""
    model = bot.model_name
    streamed = ""
    try:
        yield chunk(cid, created, model, {"role": "assistant", "content": ""})
        event: str | Answer | None = first
        while not isinstance(event, Answer):
            if event:
                streamed += event
                yield chunk(cid, created, model, {"content": event})
            event = next(events, None)
            if event is None:
                raise AssertionError("the answer stream ended without an answer")
        text = streamed + closing_text(streamed, event)
        yield chunk(cid, created, model, {"content": closing_text(streamed, event)}, "stop",
                    usage=usage(bot, req, text), qa_bot=event.to_dict())
    except Exception as e:  # headers are sent: the error goes in the stream, as OpenAI does
        yield f"data: {json.dumps(domain_error(e).body())}\n\n"
    finally:
        events.close()  # frees the answer slot at once if the client went away
    yield "data: [DONE]\n\n"


# ----- the app


def bearer_tokens_check(tokens: list[str]) -> Callable[[Request], None]:
    """Raises ApiError(401) unless the request carries `Authorization: Bearer <one of tokens>`."""
    wanted = [t.encode() for t in tokens]

    def check(request: Request) -> None:
        if not wanted:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        ok = False
        for token in wanted:  # every token compared, in constant time each
            ok |= hmac.compare_digest(token, given.strip().encode())
        if scheme.lower() != "bearer" or not ok:
            raise ApiError(401, "A valid API key is required: send `Authorization: Bearer <your password>`.",
                           code="invalid_api_key")

    return check


def create_api(bot: Bot, tokens: list[str]) -> FastAPI:
    """The FastAPI app with the OpenAI-compatible routes (the UI is mounted on it by `app.build_app`)."""
    api = FastAPI(title="qa-bot", docs_url=None, redoc_url=None, openapi_url=None)
    authorize = bearer_tokens_check(tokens)
    started = int(time.time())

    @api.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        return e.response()

    @api.get("/v1/models")
    async def models(request: Request) -> dict:
        authorize(request)
        return {"object": "list", "data": [{"id": bot.model_name, "object": "model", "created": started,
                                            "owned_by": "qa-bot"}]}

    @api.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        authorize(request)
        req = parse_request(await request.body())
        cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        events = cast(Generator[str | Answer, None, None], bot.stream(req.question, req.history))
        try:  # up to the first piece before answering, so failures before it get their HTTP status
            first = await run_in_threadpool(next, events, None)
        except Exception as e:
            events.close()
            raise domain_error(e) from None
        if first is None:
            raise domain_error(AssertionError("the answer stream ended without an answer"))
        if req.stream:
            return StreamingResponse(sse_events(bot, req, first, events, cid, created),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        try:
            ans = first if isinstance(first, Answer) else await run_in_threadpool(_rest, events)
        except Exception as e:
            raise domain_error(e) from None
        finally:
            events.close()
        return JSONResponse(completion(ans, cid, created, usage(bot, req, content_of(ans))))

    return api


def _rest(events: Iterator[str | Answer]) -> Answer:
    """The checked answer at the end of a stream."""
    for event in events:
        if isinstance(event, Answer):
            return event
    raise AssertionError("the answer stream ended without an answer")
