"""The chat-model seam: messages -> a stream of text pieces."""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from qa_bot.errors import BackendError
from qa_bot.llm.kvcache import PromptCache, SnapshotStore


class ChatModel(Protocol):
    """What the bot needs from a model. The optional abilities are declared here with their "cannot"
    answer (see BaseChatModel), so no caller probes a model with getattr."""

    name: str
    cache: PromptCache | None  # prompt states kept between calls; None for a backend that keeps none

    def stream(self, messages: list[dict], max_tokens: int = 256, stop: list[str] | None = None) -> Iterator[str]: ...

    def prefix_ready(self, messages: list[dict]) -> bool:
        """Whether a prompt beginning like `messages` resumes from state read ahead (or needs none)."""
        ...

    def warm(self, prompts: Iterable[list[dict]], budget_bytes: int, prune: bool = True,
             side: bool = False) -> dict | None:
        """Reads prompts ahead of the questions that will start like them; None when it cannot.
        `side`: in a fresh context of its own, from the first token, so answers asked meanwhile are not held
        up (serve) and what was read before does not change the state (document prefixes: see Bot.warm)."""
        ...

    def attach_snapshots(self, folder: Path) -> SnapshotStore | None:
        """Keep read-ahead states on disk under `folder`; None when the backend cannot."""
        ...

    def count_tokens(self, text: str) -> int | None:
        """The model's own token count of `text`; None when the backend has no tokenizer at hand."""
        ...


class BaseChatModel:
    """Defaults for a backend that keeps no state between calls (a server does its own prefix caching)."""

    name = "model"
    cache: PromptCache | None = None

    def prefix_ready(self, messages: list[dict]) -> bool:
        return True

    def warm(self, prompts: Iterable[list[dict]], budget_bytes: int, prune: bool = True,
             side: bool = False) -> dict | None:
        return None

    def attach_snapshots(self, folder: Path) -> SnapshotStore | None:
        return None

    def count_tokens(self, text: str) -> int | None:
        return None


FLASH_ATTN = True  # llama.cpp's fused attention: about 2% faster prompt reading on this CPU; KV layout differs


class LlamaCppModel(BaseChatModel):
    """A GGUF run in-process by llama.cpp; loaded once and kept warm, one generation at a time."""

    def __init__(
        self, path: Path, name: str, n_ctx: int, n_threads: int, temperature: float = 0.0, seed: int = 0,
        prompt_cache_mb: int = 0,
    ):
        from llama_cpp import Llama

        self.name = name
        self.path = path
        self.temperature = temperature
        self._lock = threading.Lock()
        self._options: dict[str, Any] = dict(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
            n_batch=512, seed=seed, verbose=False, flash_attn=FLASH_ATTN,
        )
        self.llama = Llama(**self._options)
        # Llama keeps the previous prompt's KV state and only evaluates what follows the shared prefix.
        # The prompt cache adds earlier prompts: it restores the best one before Llama's own prefix check.
        self.cache: PromptCache | None = None
        if prompt_cache_mb > 0:
            self._use_cache(PromptCache(prompt_cache_mb << 20))

    def _use_cache(self, cache: PromptCache) -> None:
        self.cache, inner = cache, self.llama.generate

        def generate(tokens, *args, **kwargs):
            cache.restore(self.llama, list(tokens))
            return inner(tokens, *args, **kwargs)

        self.llama.generate = generate  # type: ignore[method-assign]

    def attach_snapshots(self, folder: Path) -> SnapshotStore:
        """Resume prompts from the KV snapshots under `folder` (in a subfolder for this model)."""
        store = SnapshotStore(folder / SnapshotStore.fingerprint(self.path, f"fa={FLASH_ATTN}"))
        with self._lock:
            if self.cache is None:
                self._use_cache(PromptCache(0))
            assert self.cache is not None
            self.cache.store = store
        for other in folder.iterdir():  # another model's snapshots: never loadable by this one
            if other.is_dir() and other != store.folder:
                shutil.rmtree(other, ignore_errors=True)
        return store

    def prefix_ready(self, messages: list[dict]) -> bool:
        """True when `messages` (rendered with an empty question) was read ahead, or nothing is kept on disk."""
        store = self.cache.store if self.cache is not None else None
        return store is None or SnapshotStore.name_of(json.dumps(messages, sort_keys=True)) in store.names

    def warm(self, prompts: Iterable[list[dict]], budget_bytes: int, prune: bool = True,
             side: bool = False) -> dict | None:
        """Reads each prompt once and keeps its KV state on disk, in order, until the budget is spent.

        A later prompt that begins the same way (same system prompt, same first passage) resumes from
        the snapshot and reads only what follows. The lock is taken per prompt, so answers interleave.
        `side`: the prompts are read in a second llama.cpp context (same model and options, so its
        snapshots load into the first) and answers go on meanwhile: a whole-document prefix takes tens
        of seconds, too long to hold the lock. The weights are mapped once; the second context costs
        its KV cells and buffers until the pass ends.
        With `prune`, snapshots of prompts not given, or past the budget, are deleted. None when no
        snapshot folder is attached.
        """
        cache = self.cache
        store = cache.store if cache is not None else None
        if cache is None or store is None:
            return None
        seen: set[str] = set()
        used = made = 0
        t0 = time.perf_counter()
        reader = None
        try:
            for messages in prompts:
                name = SnapshotStore.name_of(json.dumps(messages, sort_keys=True))
                if name in store.names:
                    used += store.size(name)
                    if used > budget_bytes:
                        break
                    seen.add(name)
                    continue
                if side and reader is None:
                    from llama_cpp import Llama

                    reader = Llama(**self._options)
                with contextlib.nullcontext() if reader is not None else self._lock:
                    snap = self._read(reader or self.llama, messages, cache, budget_bytes - used)
                if snap is None:
                    break  # the budget is spent
                with self._lock:  # answers read the store's keys under this lock
                    if not store.put(name, *snap):
                        break  # the disk refused it: answers still work, reading everything
                seen.add(name)
                used += len(snap[1])
                made += 1
        finally:
            if reader is not None:
                reader.close()
        with self._lock:
            dropped = store.keep_only(seen) if prune else 0
        return {"snapshots": len(store.keys), "made": made, "dropped": dropped, "mb": round(used / 2**20, 1),
                "seconds": round(time.perf_counter() - t0, 2)}

    @staticmethod
    def _read(llama: Any, messages: list[dict], cache: PromptCache, limit: int) -> tuple[tuple[int, ...], Any] | None:
        """Reads one prompt into `llama`'s context, the chat template applied as for an answer; its state."""
        for _ in llama.create_chat_completion(
            messages=messages, max_tokens=1, temperature=0.0, top_k=1, stream=True,
        ):
            pass
        return cache.snapshot(llama, limit)

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


class OpenAICompatModel(BaseChatModel):
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
