"""The plain LlamaIndex baseline: `VectorStoreIndex` + default query engine over the same weights, for
the "ours vs a LlamaIndex quickstart" row of `qa-bot bench`."""

from __future__ import annotations

import time
from pathlib import Path

from qa_bot.bench.corpus import is_correct
from qa_bot.evaluation.metrics import percentile


def _adapters(embedder, llm, n_ctx: int, max_tokens: int):
    """llama-index wrappers over the very embedder and model our pipeline uses (same weights, same process)."""
    return _embedding(embedder), _llm(llm, n_ctx, max_tokens)


def _embedding(embedder):
    from typing import Any

    from llama_index.core.base.embeddings.base import BaseEmbedding
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

    return OurEmbedding(embedder)


def _llm(llm, n_ctx: int, max_tokens: int):
    from typing import Any

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

    return OurLLM(llm, n_ctx, max_tokens)


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
