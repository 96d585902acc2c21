"""Snapshots of llama.cpp's KV cache for recent prompts: a new prompt resumes from the longest shared prefix.

Llama already reuses the prefix it shares with the *previous* prompt. Questions about one corpus keep
bringing back the same passages, though not always right after each other, so we keep a few earlier
contexts too. Written here, not LlamaRAMCache: that one also copies the whole logits buffer on every
save and load (hundreds of MB for a 150k vocabulary); a sequence snapshot holds only the KV cells.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

MIN_GAIN = 16  # tokens: a shorter head start is not worth a restore


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Tokens two sequences share from the start (llama-cpp-python's own helper)."""
    from llama_cpp import Llama

    return int(Llama.longest_token_prefix(a, b))


class PromptCache:
    """Least-recently-used KV snapshots of sequence 0, keyed by the tokens they hold, within a byte budget."""

    def __init__(self, capacity_bytes: int, api: Any = None):
        self.capacity = capacity_bytes
        self._api = api  # llama_cpp's C bindings (llama_state_seq_*); a fake in unit tests
        self.entries: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.reused_tokens = 0

    def best(self, tokens: list[int]) -> tuple[tuple[int, ...] | None, int]:
        """The stored key sharing the longest prefix with `tokens`, and that length."""
        key, n = None, 0
        for k in self.entries:
            m = common_prefix(k, tokens)
            if m > n:
                key, n = k, m
        return key, n

    def restore(self, llama: Any, tokens: list[int]) -> int:
        """Loads the snapshot that shares most with `tokens` if it beats the live context; tokens reused."""
        live = common_prefix(llama.input_ids[: llama.n_tokens].tolist(), tokens)
        key, n = self.best(tokens)
        if key is None or n < live + MIN_GAIN:
            return live
        buf = self.entries[key]
        self.entries.move_to_end(key)
        C = self.api()
        if C.llama_state_seq_set_data(llama.ctx, buf, len(buf), 0) != len(buf):
            llama.reset()  # the next eval clears the KV cells from position 0: nothing half-restored is used
            return 0
        llama.input_ids[: len(key)] = key  # Llama's token buffer (n_ctx long), then the count
        llama.n_tokens = len(key)
        if hasattr(llama, "_requires_eval"):
            llama._requires_eval = True  # logits are not restored: Llama must decode before it samples
        self.hits += 1
        self.reused_tokens += n
        return n

    def save(self, llama: Any) -> None:
        """Snapshots the live context (its prompt and answer tokens), evicting the least recently used."""
        key = tuple(llama.input_ids[: llama.n_tokens].tolist())
        if not key:
            return
        C = self.api()
        size = C.llama_state_seq_get_size(llama.ctx, 0)
        if size > self.capacity:
            return
        buf = (ctypes.c_uint8 * size)()
        if C.llama_state_seq_get_data(llama.ctx, buf, size, 0) != size:
            return
        for k in [k for k in self.entries if common_prefix(k, key) == len(k)]:  # prefixes of this one add nothing
            self._drop(k)
        self.entries[key] = buf
        self.size += size
        while self.size > self.capacity and len(self.entries) > 1:
            self._drop(next(iter(self.entries)))

    def api(self) -> Any:
        if self._api is None:
            from llama_cpp import llama_cpp

            self._api = llama_cpp
        return self._api

    def _drop(self, key: tuple[int, ...]) -> None:
        self.size -= len(self.entries.pop(key))
