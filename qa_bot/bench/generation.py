"""Generation: `Bot.stream` against raw `llama_cpp.Llama` on the same messages; a plain LlamaIndex baseline."""

from __future__ import annotations

import time
from pathlib import Path

from qa_bot.bench.corpus import is_correct
from qa_bot.evaluation.metrics import percentile


def raw_llama(path: Path, n_ctx: int, threads: int):
    """A second Llama of the same GGUF with the same context and threads: the library on its own."""
    from llama_cpp import Llama

    from qa_bot.llm.backends import FLASH_ATTN

    return Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False,
                 flash_attn=FLASH_ATTN)


def _raw_run(llama, messages: list[dict], max_tokens: int) -> tuple[str, float, float]:
    """(text, first-token seconds, total seconds) of one streamed chat completion at temperature 0."""
    t0 = time.perf_counter()
    first = None
    text = ""
    for part in llama.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True):
        delta = part["choices"][0].get("delta", {}).get("content")
        if delta:
            if first is None:
                first = time.perf_counter() - t0
            text += delta
    total = time.perf_counter() - t0
    return text, (first if first is not None else total), total


def _ntokens(llama, text: str) -> int:
    return len(llama.tokenize(text.encode(), add_bos=False)) if text else 0


def bench_generation(bot, raw, questions: list[dict], *, ratio_questions: int, deadline: float, echo=print) -> tuple[dict, list[dict]]:
    """Pipeline latencies over the questions (until `deadline`), and the throughput ratio on the first few.

    Tokens per second are whole-call figures (generated tokens / wall time from the call to the last
    token), so the pipeline pays for its retrieval, prompt rendering and citation checking.
    """
    from qa_bot.retrieval.hybrid import Retrieval
    from qa_bot.schema import Answer

    bot.ask("warm up: who met whom?")  # page the weights in; fill the system-prompt cache
    _raw_run(raw, [{"role": "user", "content": "Say OK."}], 2)
    rows: list[dict] = []
    pipe_tok = pipe_s = raw_tok = raw_s = 0.0
    pipe_decode: list[float] = []
    raw_decode: list[float] = []
    for i, q in enumerate(questions):
        if i >= max(2, ratio_questions) and time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        first = None
        ans = None
        for ev in bot.stream(q["question"]):
            if isinstance(ev, Answer):
                ans = ev
            elif first is None:
                first = time.perf_counter() - t0
        total = time.perf_counter() - t0
        assert ans is not None
        messages = bot.messages(ans.standalone_question, Retrieval(ans.retrieved), bot.plan() if ans.mode == "documents" else None)
        row = {
            "id": q.get("id", str(i)), "question": q["question"], "answer": ans.answer, "refused": ans.refused, "mode": ans.mode,
            "correct": is_correct(q, ans.answer, ans.refused), "first_token_s": round(first or total, 3),
            "answer_s": round(total, 3), "tokens": _ntokens(raw, ans.raw_answer),
            "prompt_tokens": sum(_ntokens(raw, m["content"]) for m in messages),
        }
        if i < ratio_questions and first is not None:
            text, rfirst, rtotal = _raw_run(raw, messages, bot.max_tokens)
            rtok = _ntokens(raw, text)
            pipe_tok += row["tokens"]
            pipe_s += total
            raw_tok += rtok
            raw_s += rtotal
            if total > (first or 0) and rtotal > rfirst:
                pipe_decode.append(row["tokens"] / (total - (first or 0)))
                raw_decode.append(rtok / (rtotal - rfirst))
            row.update(raw_tokens=rtok, raw_first_token_s=round(rfirst, 3), raw_answer_s=round(rtotal, 3),
                       same_text=text == ans.raw_answer)
        rows.append(row)
        echo(f"  gen {i + 1}: first token {row['first_token_s']:.1f} s, answer {row['answer_s']:.1f} s, "
             f"{row['tokens']} tokens" + (f"; raw {row['raw_answer_s']:.1f} s" if "raw_answer_s" in row else ""))
    p_rate = pipe_tok / pipe_s if pipe_s else 0.0
    r_rate = raw_tok / raw_s if raw_s else 0.0
    firsts = [r["first_token_s"] for r in rows]
    totals = [r["answer_s"] for r in rows]
    raw_rows = [r for r in rows if "raw_first_token_s" in r]
    return {
        "model": bot.model_name,
        "questions": len(rows),
        "ratio_questions": len(raw_rows),
        "pipeline_tokens_per_s": round(p_rate, 2),
        "raw_tokens_per_s": round(r_rate, 2),
        "ratio": round(p_rate / r_rate, 3) if r_rate else 0.0,
        "pipeline_decode_tokens_per_s": round(sum(pipe_decode) / len(pipe_decode), 2) if pipe_decode else 0.0,
        "raw_decode_tokens_per_s": round(sum(raw_decode) / len(raw_decode), 2) if raw_decode else 0.0,
        "raw_first_token_p50_s": percentile([r["raw_first_token_s"] for r in raw_rows], 50, 3),
        "same_text_as_raw": sum(1 for r in raw_rows if r.get("same_text")),
        "prompt_tokens_p50": percentile([r["prompt_tokens"] for r in rows], 50, 3),
        "first_token_p50_s": percentile(firsts, 50, 3),
        "first_token_p95_s": percentile(firsts, 95, 3),
        "answer_p50_s": percentile(totals, 50, 3),
        "answer_p95_s": percentile(totals, 95, 3),
        "correct": sum(1 for r in rows if r["correct"]),
        **_cache_figures(bot.llm.cache, len(rows) + 1),
    }, rows


def _cache_figures(cache, asks: int) -> dict:
    """How often a prompt resumed from an earlier snapshot (the warm-up question included)."""
    if cache is None:
        return {"prompt_cache": "off"}
    return {"prompt_cache_hits": cache.hits, "prompt_cache_asks": asks,
            "prompt_cache_reused_tokens_mean": round(cache.reused_tokens / cache.hits) if cache.hits else 0}


# --- the plain LlamaIndex baseline ---------------------------------------------------------------


def _adapters(embedder, llm, n_ctx: int, max_tokens: int):
    """llama-index wrappers over the very embedder and model our pipeline uses (same weights, same process)."""
    from typing import Any

    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        CompletionResponse,
        LLMMetadata,
        MessageRole,
    )
    from llama_index.core.llms import CustomLLM
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from pydantic import PrivateAttr

    class OurEmbedding(BaseEmbedding):
        _inner: Any = PrivateAttr()

        def __init__(self, inner, **kw):
            super().__init__(model_name=inner.name, embed_batch_size=64, **kw)
            self._inner = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._inner.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [v.tolist() for v in self._inner.embed(texts)]

    class OurLLM(CustomLLM):
        _inner: Any = PrivateAttr()
        _n_ctx: int = PrivateAttr()
        _max_tokens: int = PrivateAttr()

        def __init__(self, inner, n_ctx: int, max_tokens: int, **kw):
            super().__init__(**kw)
            self._inner, self._n_ctx, self._max_tokens = inner, n_ctx, max_tokens

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=self._n_ctx, num_output=self._max_tokens, is_chat_model=True,
                               model_name=self._inner.name)

        def _run(self, messages: list[dict]) -> str:
            return "".join(self._inner.stream(messages, max_tokens=self._max_tokens))

        @llm_chat_callback()
        def chat(self, messages, **kwargs: Any) -> ChatResponse:
            msgs = [{"role": m.role.value, "content": m.content or ""} for m in messages]
            return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=self._run(msgs)))

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            return CompletionResponse(text=self._run([{"role": "user", "content": prompt}]))

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any):
            def gen():
                text = ""
                for piece in self._inner.stream([{"role": "user", "content": prompt}], max_tokens=self._max_tokens):
                    text += piece
                    yield CompletionResponse(text=text, delta=piece)

            return gen()

    return OurEmbedding(embedder), OurLLM(llm, n_ctx, max_tokens)


def bench_baseline(client, seeds_dir: Path, embedder, llm, n_ctx: int, max_tokens: int, questions: list[dict],
                   ours: list[dict], *, deadline: float, echo=print) -> dict:
    """`VectorStoreIndex` over a Chroma collection built by llama-index's own ingestion (default 1024-token
    SentenceSplitter), default `as_query_engine()` (top 2, compact), on the questions `ours` already answered."""
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from qa_bot.answer.citations import says_cannot_answer

    emb, lllm = _adapters(embedder, llm, n_ctx, max_tokens)
    name = "llamaindex_baseline"
    try:
        client.delete_collection(name)
    except Exception:  # not there yet
        pass
    col = client.get_or_create_collection(name)
    vs = ChromaVectorStore(chroma_collection=col)
    t0 = time.perf_counter()
    docs = SimpleDirectoryReader(input_files=sorted(str(p) for p in Path(seeds_dir).glob("*.txt"))).load_data()
    VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=vs), embed_model=emb)
    ingest_s = time.perf_counter() - t0
    chunks = col.count()
    engine = VectorStoreIndex.from_vector_store(vs, embed_model=emb).as_query_engine(llm=lllm)
    rows = []
    for i, (q, mine) in enumerate(zip(questions, ours, strict=False)):
        if i >= 2 and time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        text = str(engine.query(q["question"]))
        secs = time.perf_counter() - t0
        rows.append({"id": q.get("id", str(i)), "answer": text, "answer_s": round(secs, 3),
                     "correct": is_correct(q, text, says_cannot_answer(text)),
                     "ours_correct": mine["correct"], "ours_answer_s": mine["answer_s"]})
        echo(f"  baseline {i + 1}: {secs:.1f} s, correct {rows[-1]['correct']} (ours {mine['correct']}, {mine['answer_s']:.1f} s)")
    client.delete_collection(name)
    n = len(rows)
    return {
        "questions": n,
        "chunks": chunks,
        "ingest_s": round(ingest_s, 2),
        "baseline_correct": sum(r["correct"] for r in rows),
        "ours_correct": sum(r["ours_correct"] for r in rows),
        "baseline_answer_p50_s": percentile([r["answer_s"] for r in rows], 50, 3),
        "ours_answer_p50_s": percentile([r["ours_answer_s"] for r in rows], 50, 3),
        "baseline_answer_mean_s": round(sum(r["answer_s"] for r in rows) / n, 3) if n else 0.0,
        "ours_answer_mean_s": round(sum(r["ours_answer_s"] for r in rows) / n, 3) if n else 0.0,
        "rows": rows,
    }
