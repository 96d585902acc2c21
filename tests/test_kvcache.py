"""The prompt cache's choices (which snapshot, when, what to evict) against a fake llama.cpp."""

import ctypes

import numpy as np

from qa_bot.kvcache import MIN_GAIN, PromptCache, common_prefix

BYTES_PER_TOKEN = 10


class FakeC:
    """llama_state_seq_* over a fake context whose KV state is its token list."""

    def __init__(self):
        self.fail_set = False

    def llama_state_seq_get_size(self, ctx, seq):
        return len(ctx.kv) * BYTES_PER_TOKEN

    def llama_state_seq_get_data(self, ctx, buf, size, seq):
        ctx.saved[ctypes.addressof(buf)] = list(ctx.kv)
        return size

    def llama_state_seq_set_data(self, ctx, buf, size, seq):
        if self.fail_set:
            ctx.kv = ["garbage"]
            return 0
        ctx.kv = list(ctx.saved[ctypes.addressof(buf)])
        return size


class FakeCtx:
    def __init__(self):
        self.kv: list = []
        self.saved: dict = {}


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
