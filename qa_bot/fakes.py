"""Deterministic stand-ins for tests: they discriminate, so ranking and flow are really tested."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import numpy as np

from qa_bot.llm.backends import BaseChatModel

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """Hashed bag of words (plus word prefixes): texts sharing words get closer vectors."""

    name = "fake-hash"

    def __init__(self, dim: int = 256):
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for tok in _TOKEN.findall(text.lower()):
                for feat in (tok, tok[:5]):
                    h = int.from_bytes(hashlib.md5(feat.encode()).digest()[:4], "little")
                    out[row, h % self.dim] += 1.0
            n = np.linalg.norm(out[row])
            if n:
                out[row] /= n
        return out


class ScriptedLLM(BaseChatModel):
    """A chat model that replies from a script and records every call."""

    def __init__(self, replies: list[str] | None = None, name: str = "scripted"):
        self.replies = list(replies or [])
        self.calls: list[list[dict]] = []
        self.name = name

    def stream(self, messages: list[dict], max_tokens: int = 256, stop: list[str] | None = None) -> Iterator[str]:
        self.calls.append(messages)
        reply = self.replies.pop(0) if self.replies else "I cannot answer that from the sources."
        yield from re.findall(r"\S+\s*", reply)
