"""The chat-model seam: messages -> a stream of text pieces."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from .errors import BackendError


class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[dict], max_tokens: int = 256, stop: list[str] | None = None) -> Iterator[str]: ...


class LlamaCppModel:
    """A GGUF run in-process by llama.cpp; loaded once and kept warm, one generation at a time."""

    def __init__(
        self, path: Path, name: str, n_ctx: int, n_threads: int, temperature: float = 0.0, seed: int = 0,
        prompt_cache_mb: int = 0,
    ):
        from llama_cpp import Llama

        from .kvcache import PromptCache

        self.name = name
        self.temperature = temperature
        self._lock = threading.Lock()
        self.llama = Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
            n_batch=512, seed=seed, verbose=False,
        )
        # Llama keeps the previous prompt's KV state and only evaluates what follows the shared prefix.
        # The prompt cache adds earlier prompts: it restores the best one before Llama's own prefix check.
        self.cache = PromptCache(prompt_cache_mb << 20) if prompt_cache_mb > 0 else None
        if self.cache is not None:
            cache, inner = self.cache, self.llama.generate

            def generate(tokens, *args, **kwargs):
                cache.restore(self.llama, list(tokens))
                return inner(tokens, *args, **kwargs)

            self.llama.generate = generate  # type: ignore[method-assign]

    def stream(self, messages: list[dict], max_tokens: int = 256, stop: list[str] | None = None) -> Iterator[str]:
        with self._lock:
            out = self.llama.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens, temperature=self.temperature, top_k=1 if self.temperature == 0 else 40,
                stop=stop or [], stream=True,
            )
            try:
                for part in out:  # type: ignore[union-attr]
                    delta: Any = part["choices"][0].get("delta", {}).get("content")  # type: ignore[index,union-attr]
                    if delta:
                        yield delta
            finally:
                if self.cache is not None:
                    self.cache.save(self.llama)

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False))


class OpenAICompatModel:
    """Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, OpenAI) via llama-index's OpenAILike."""

    def __init__(self, base_url: str, model: str, api_key: str, timeout: float, temperature: float = 0.0):
        from llama_index.llms.openai_like import OpenAILike

        if not base_url:
            raise BackendError("llm_provider=openai needs QA_BOT_LLM_BASE_URL (e.g. http://127.0.0.1:8000/v1)")
        self.name = f"openai:{model}"
        self._llm = OpenAILike(
            model=model, api_base=base_url, api_key=api_key or "none", is_chat_model=True,
            timeout=timeout, temperature=temperature, max_retries=1,
        )

    def stream(self, messages: list[dict], max_tokens: int = 256, stop: list[str] | None = None) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        msgs = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        try:
            for part in self._llm.stream_chat(msgs, max_tokens=max_tokens, stop=stop or None):
                if part.delta:
                    yield part.delta
        except Exception as e:  # network, HTTP and protocol errors from the client library
            raise BackendError(f"LLM server at {self._llm.api_base} failed: {type(e).__name__}: {e}") from None
