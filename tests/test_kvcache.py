"""The prompt cache's choices (which snapshot, when, what to evict) against a fake llama.cpp."""

import os
import struct

import numpy as np

from qa_bot.llm.kvcache import MIN_GAIN, PromptCache, SnapshotStore, common_prefix

BYTES_PER_TOKEN = 10


class FakeC:
    """llama_state_seq_* over a fake context whose KV state is its token list, serialised in the buffer."""

    def __init__(self):
        self.fail_set = False

    def llama_state_seq_get_size(self, ctx, seq):
        return len(ctx.kv) * BYTES_PER_TOKEN

    def llama_state_seq_get_data(self, ctx, buf, size, seq):
        data = b"".join(struct.pack("<qh", t, 0) for t in ctx.kv)
        buf[:size] = data
        return size

    def llama_state_seq_set_data(self, ctx, buf, size, seq):
        if self.fail_set or size % BYTES_PER_TOKEN:
            ctx.kv = ["garbage"]
            return 0
        ctx.kv = [t for t, _ in struct.iter_unpack("<qh", bytes(buf))]
        return size


class FakeCtx:
    def __init__(self):
        self.kv: list = []


class FakeLlama:
    def __init__(self):
        self.ctx = FakeCtx()
        self.input_ids = np.zeros(4096, dtype=np.intc)
        self.n_tokens = 0
        self._requires_eval = False

    def run(self, tokens):
        """What Llama.generate does: keep the shared prefix, evaluate the rest; returns tokens evaluated."""
        keep = common_prefix(self.input_ids[: self.n_tokens].tolist(), tokens)
        if keep == len(tokens):
            keep -= 1
        assert self.ctx.kv[:keep] == tokens[:keep], "KV state must hold the tokens Llama believes it holds"
        self.ctx.kv = list(tokens)
        self.input_ids[: len(tokens)] = tokens
        self.n_tokens = len(tokens)
        return len(tokens) - keep

    def reset(self):
        self.n_tokens = 0


def ask(cache, llama, tokens):
    cache.restore(llama, tokens)
    n = llama.run(tokens)
    cache.save(llama)
    return n


def prompt(*passages, q=0):
    system = list(range(1000, 1040))
    return system + [t for p in passages for t in range(p * 100, p * 100 + 50)] + [9000 + q]


def test_an_earlier_prompt_is_resumed_when_it_shares_more_than_the_live_one():
    cache, llama = PromptCache(1 << 20, api=FakeC()), FakeLlama()
    assert ask(cache, llama, prompt(1, 2, q=1)) == 141
    assert ask(cache, llama, prompt(3, 4, q=2)) == 101  # only the system prompt is shared
    assert ask(cache, llama, prompt(1, 2, q=3)) == 1  # passages 1 and 2 come back from the snapshot
    assert cache.hits == 1
    assert llama._requires_eval


def test_no_restore_when_the_live_context_is_as_good():
    cache, llama = PromptCache(1 << 20, api=FakeC()), FakeLlama()
    ask(cache, llama, prompt(1, 2, q=1))
    assert ask(cache, llama, prompt(1, 5, q=2)) == 51
    assert cache.hits == 0


def test_small_gains_are_not_worth_a_restore():
    cache, llama = PromptCache(1 << 20, api=FakeC()), FakeLlama()
    first = prompt(1, q=1)
    ask(cache, llama, first)
    ask(cache, llama, prompt(3, q=2))
    near = list(first[: 40 + MIN_GAIN - 1]) + [7] * 60
    ask(cache, llama, near)
    assert cache.hits == 0


def test_eviction_keeps_the_budget_and_drops_the_least_recently_used():
    one = len(prompt(1, q=1)) * BYTES_PER_TOKEN
    cache, llama = PromptCache(2 * one + 5, api=FakeC()), FakeLlama()
    ask(cache, llama, prompt(1, q=1))
    ask(cache, llama, prompt(2, q=2))
    ask(cache, llama, prompt(3, q=3))
    assert cache.size <= cache.capacity
    assert len(cache.entries) == 2
    assert cache.best(prompt(1, q=9))[1] == 40  # passage 1 was evicted: only the system prompt matches


def test_a_snapshot_that_is_a_prefix_of_a_new_one_is_replaced():
    cache, llama = PromptCache(1 << 20, api=FakeC()), FakeLlama()
    ask(cache, llama, prompt(1, q=1))
    llama.run(prompt(1, q=1) + [5, 6, 7])
    cache.save(llama)
    assert list(cache.entries) == [tuple(prompt(1, q=1) + [5, 6, 7])]


def test_a_failed_restore_resets_the_context_so_nothing_half_loaded_is_reused():
    api = FakeC()
    cache, llama = PromptCache(1 << 20, api=api), FakeLlama()
    ask(cache, llama, prompt(1, 2, q=1))
    ask(cache, llama, prompt(3, 4, q=2))
    api.fail_set = True
    assert cache.restore(llama, prompt(1, 2, q=3)) == 0
    assert llama.n_tokens == 0
    assert llama.run(prompt(1, 2, q=3)) == len(prompt(1, 2, q=3))


def warm_to(store, cache, llama, tokens, name):
    """What LlamaCppModel.warm does for one prompt: read it, write its snapshot to disk."""
    llama.run(tokens)
    store.put(name, *cache.snapshot(llama, 1 << 20))


def test_a_prompt_resumes_from_a_snapshot_on_disk_written_by_an_earlier_process(tmp_path):
    api = FakeC()
    store = SnapshotStore(tmp_path)
    writer, llama = PromptCache(0, api=api, store=store), FakeLlama()
    warm_to(store, writer, llama, prompt(1, q=0), "p1")
    warm_to(store, writer, llama, prompt(2, q=0), "p2")
    assert writer.entries == {}  # a zero budget keeps nothing in RAM: the disk tier is separate

    reader = PromptCache(0, api=api, store=SnapshotStore(tmp_path))  # a new process finds both on disk
    assert set(reader.store.names) == {"p1", "p2"}
    fresh = FakeLlama()
    assert ask(reader, fresh, prompt(1, 3, q=7)) == 51  # passage 1 comes from disk: passage 3 and the question are read
    assert reader.hits == 1 and reader.reused_tokens == 90


def test_damaged_and_unfinished_snapshot_files_are_never_loaded(tmp_path):
    api = FakeC()
    store = SnapshotStore(tmp_path)
    cache, llama = PromptCache(0, api=api, store=store), FakeLlama()
    warm_to(store, cache, llama, prompt(1, q=0), "good")
    good = (tmp_path / "good.kv").read_bytes()
    (tmp_path / "cut.kv").write_bytes(good[:20])  # a torn header: its token list is incomplete
    (tmp_path / "alien.kv").write_bytes(b"not a snapshot at all")
    (tmp_path / "good.tmp123").write_bytes(good[:100])  # an interrupted write, long ago
    os.utime(tmp_path / "good.tmp123", (1, 1))
    (tmp_path / "other.tmp456").write_bytes(good[:100])  # another process writing now: left alone
    again = SnapshotStore(tmp_path)
    assert set(again.names) == {"good"}
    assert not (tmp_path / "cut.kv").exists() and not (tmp_path / "alien.kv").exists()
    again.keep_only(["good"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.kv", "other.tmp456"]


def test_a_snapshot_that_fails_to_load_is_dropped_and_the_prompt_is_read_in_full(tmp_path):
    api = FakeC()
    store = SnapshotStore(tmp_path)
    cache, llama = PromptCache(0, api=api, store=store), FakeLlama()
    warm_to(store, cache, llama, prompt(1, q=0), "p1")
    path = tmp_path / "p1.kv"
    path.write_bytes(path.read_bytes() + b"x")  # the state no longer fits llama.cpp's layout
    fresh = FakeLlama()
    assert cache.restore(fresh, prompt(1, 2, q=1)) == 0
    assert fresh.run(prompt(1, 2, q=1)) == len(prompt(1, 2, q=1))
    assert "p1" not in store.names and not path.exists()


def test_keep_only_drops_the_snapshots_of_passages_no_longer_indexed(tmp_path):
    api = FakeC()
    store = SnapshotStore(tmp_path)
    cache, llama = PromptCache(0, api=api, store=store), FakeLlama()
    for i in (1, 2, 3):
        warm_to(store, cache, llama, prompt(i, q=0), f"p{i}")
    assert store.keep_only(["p1", "p3"]) == 1
    assert set(store.names) == {"p1", "p3"} and len(store.keys) == 2
    assert cache.best(prompt(2, q=5))[1] == 40  # only the system prompt is left to share


def test_a_snapshot_the_disk_refuses_is_reported_not_raised(tmp_path):
    api = FakeC()
    store = SnapshotStore(tmp_path / "kv")
    cache, llama = PromptCache(0, api=api, store=store), FakeLlama()
    llama.run(prompt(1, q=0))
    (tmp_path / "kv").rmdir()  # e.g. `make clean` while serving
    assert store.put("p1", *cache.snapshot(llama, 1 << 20)) is False
    assert store.names == {}
