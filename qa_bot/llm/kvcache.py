"""Snapshots of llama.cpp's KV cache for recent prompts: a new prompt resumes from the longest shared prefix.

Llama already reuses the prefix it shares with the *previous* prompt. Questions about one corpus keep
bringing back the same passages, though not always right after each other, so we keep a few earlier
contexts too. Written here, not LlamaRAMCache: that one also copies the whole logits buffer on every
save and load (hundreds of MB for a 150k vocabulary); a sequence snapshot holds only the KV cells.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import struct
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

MIN_GAIN = 16  # tokens: a shorter head start is not worth a restore
MAGIC = b"QAKV0001"
STALE_TMP_S = 300  # a temporary snapshot file this old was left by a process that stopped writing it


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Tokens two sequences share from the start (llama-cpp-python's own helper)."""
    from llama_cpp import Llama

    return int(Llama.longest_token_prefix(a, b))


class PromptCache:
    """Least-recently-used KV snapshots of sequence 0, keyed by the tokens they hold, within a byte budget."""

    def __init__(self, capacity_bytes: int, api: Any = None, store: SnapshotStore | None = None):
        self.capacity = capacity_bytes
        self._api = api  # llama_cpp's C bindings (llama_state_seq_*); a fake in unit tests
        self.store = store  # snapshots on disk, written ahead of time (passage warm-up); read on a hit
        self.entries: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.reused_tokens = 0

    def best(self, tokens: list[int]) -> tuple[tuple[int, ...] | None, int]:
        """The stored key sharing the longest prefix with `tokens`, and that length."""
        key, n = None, 0
        for k in [*self.entries, *(self.store.keys if self.store else ())]:
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
        if key in self.entries:
            buf = self.entries[key]
            self.entries.move_to_end(key)
        else:
            assert self.store is not None
            buf = self.store.load(key)
        C = self.api()
        if buf is None or C.llama_state_seq_set_data(llama.ctx, buf, len(buf), 0) != len(buf):
            llama.reset()  # the next eval clears the KV cells from position 0: nothing half-restored is used
            if buf is not None and self.store is not None and key in self.store.keys:
                self.store.discard(key)
            return 0
        llama.input_ids[: len(key)] = key  # Llama's token buffer (n_ctx long), then the count
        llama.n_tokens = len(key)
        if hasattr(llama, "_requires_eval"):
            llama._requires_eval = True  # logits are not restored: Llama must decode before it samples
        self.hits += 1
        self.reused_tokens += n
        return n

    def snapshot(self, llama: Any, limit: int) -> tuple[tuple[int, ...], Any] | None:
        """(tokens, KV state) of the live context, or None if empty or over `limit` bytes."""
        key = tuple(llama.input_ids[: llama.n_tokens].tolist())
        if not key:
            return None
        C = self.api()
        size = C.llama_state_seq_get_size(llama.ctx, 0)
        if size > limit:
            return None
        buf = (ctypes.c_uint8 * size)()
        if C.llama_state_seq_get_data(llama.ctx, buf, size, 0) != size:
            return None
        return key, buf

    def save(self, llama: Any) -> None:
        """Snapshots the live context (its prompt and answer tokens), evicting the least recently used."""
        snap = self.snapshot(llama, self.capacity)
        if snap is None:
            return
        key, buf = snap
        for k in [k for k in self.entries if common_prefix(k, key) == len(k)]:  # prefixes of this one add nothing
            self._drop(k)
        self.entries[key] = buf
        self.size += len(buf)
        while self.size > self.capacity and len(self.entries) > 1:
            self._drop(next(iter(self.entries)))

    def api(self) -> Any:
        if self._api is None:
            from llama_cpp import llama_cpp

            self._api = llama_cpp
        return self._api

    def _drop(self, key: tuple[int, ...]) -> None:
        self.size -= len(self.entries.pop(key))


class SnapshotStore:
    """KV snapshots on disk, one file per prompt: its tokens and llama.cpp's sequence state.

    The folder is named after the model, so snapshots of another GGUF or llama.cpp build are never
    loaded. Files are written to a temporary name and renamed: an interrupted warm-up leaves whole
    files or none. Only the token keys stay in memory; a state is read when a prompt resumes from it.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.keys: dict[tuple[int, ...], Path] = {}
        self.names: dict[str, tuple[int, ...]] = {}
        folder.mkdir(parents=True, exist_ok=True)
        for f in sorted(folder.glob("*.kv")):
            key = self._read_key(f)
            if key is None:
                f.unlink(missing_ok=True)  # not ours or damaged: it would never load
            else:
                self.keys[key], self.names[f.stem] = f, key

    @staticmethod
    def fingerprint(model: Path, variant: str = "") -> str:
        """Names the folder: the GGUF (name and size), the llama.cpp build and the context options."""
        import llama_cpp

        st = model.stat()
        return hashlib.sha256(f"{model.name}:{st.st_size}:{llama_cpp.__version__}:{variant}".encode()).hexdigest()[:16]

    @staticmethod
    def name_of(prompt: str) -> str:
        return hashlib.sha256(prompt.encode()).hexdigest()[:24]

    def size(self, name: str) -> int:
        try:
            return self.keys[self.names[name]].stat().st_size
        except (KeyError, OSError):
            return 0

    def put(self, name: str, key: tuple[int, ...], state: Any) -> bool:
        """Writes one snapshot; False if the disk refused it (full, read-only, folder removed)."""
        path = self.folder / f"{name}.kv"
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            with open(tmp, "wb") as f:
                f.write(MAGIC + struct.pack("<I", len(key)) + struct.pack(f"<{len(key)}i", *key))
                f.write(memoryview(state).cast("B"))
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)
            return False
        self.keys[key], self.names[name] = path, key
        return True

    def load(self, key: tuple[int, ...]) -> Any:
        """The state stored for `key` as a ctypes buffer, or None if the file is gone or unreadable."""
        path = self.keys.get(key)
        try:
            data = path.read_bytes() if path else b""
        except OSError:
            return None
        head = len(MAGIC) + 4 + 4 * len(key)
        if len(data) <= head:
            return None
        return (ctypes.c_uint8 * (len(data) - head)).from_buffer_copy(data, head)

    def discard(self, key: tuple[int, ...]) -> None:
        path = self.keys.pop(key, None)
        if path is not None:
            self.names.pop(path.stem, None)
            path.unlink(missing_ok=True)

    def keep_only(self, names: Iterable[str]) -> int:
        """Deletes the snapshots not named (their passages left the index); how many went."""
        wanted = set(names)
        gone = [k for n, k in self.names.items() if n not in wanted]
        for k in gone:
            self.discard(k)
        for f in self.folder.glob("*.tmp*"):  # left by an interrupted write (not one another process is making)
            with contextlib.suppress(OSError):
                if time.time() - f.stat().st_mtime > STALE_TMP_S:
                    f.unlink()
        return len(gone)

    @staticmethod
    def _read_key(path: Path) -> tuple[int, ...] | None:
        try:
            with open(path, "rb") as f:
                head = f.read(len(MAGIC) + 4)
                if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
                    return None
                (n,) = struct.unpack("<I", head[len(MAGIC):])
                raw = f.read(4 * n)
                if len(raw) != 4 * n or not f.read(1):
                    return None
                return tuple(struct.unpack(f"<{n}i", raw))
        except OSError:
            return None
