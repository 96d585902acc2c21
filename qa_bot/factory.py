"""The composition root: the only place that picks implementations from settings."""

from __future__ import annotations

import sys
from pathlib import Path

from qa_bot.errors import BackendError
from qa_bot.settings import Settings


def build_embedder(s: Settings):
    if s.embed_model == "fake-hash":
        from qa_bot.fakes import HashEmbedder

        return HashEmbedder()
    from qa_bot.retrieval.embeddings import LazyEmbedder, SentenceTransformerEmbedder

    return LazyEmbedder(s.embed_model, lambda: SentenceTransformerEmbedder(
        s.embed_model, s.embed_batch_size, Path(s.model_cache)))


def build_store(s: Settings):
    from qa_bot.retrieval.store import ChromaStore, make_client

    try:
        client = make_client(Path(s.index_dir), s.chroma_url)
        return ChromaStore(client, s.collection)
    except (ValueError, ConnectionError, OSError) as e:
        where = s.chroma_url or s.index_dir
        raise BackendError(f"cannot open the Chroma store at {where}: {e}") from None


def build_ingestor(s: Settings, embedder=None, store=None):
    from qa_bot.ingest.pipeline import Ingestor

    return Ingestor(s, embedder or build_embedder(s), store or build_store(s))


def build_llm(s: Settings):
    if s.llm_provider == "extractive":
        return None
    if s.llm_provider == "openai":
        import os

        from qa_bot.llm.backends import OpenAICompatModel

        return OpenAICompatModel(
            s.llm_base_url, s.llm_model, s.llm_api_key or os.environ.get("OPENAI_API_KEY", ""), s.request_timeout, s.temperature
        )
    if s.llm_provider == "llama_cpp":
        try:
            from qa_bot.llm.backends import LlamaCppModel
        except ImportError:
            raise BackendError("llama-cpp-python is not installed: run `make install`") from None
        from qa_bot.llm.gguf import resolve_gguf

        path = resolve_gguf(s.llm_model, Path(s.model_cache))
        return LlamaCppModel(path, s.llm_model, s.n_ctx, s.threads(), s.temperature, prompt_cache_mb=s.prompt_cache_mb)
    raise BackendError(f"unknown llm_provider '{s.llm_provider}'")


def load_bm25(s: Settings, store):
    """The persisted BM25 index; rebuilt from the store if missing or older than the manifest."""
    from qa_bot.ingest.manifest import Manifest
    from qa_bot.retrieval.bm25 import BM25Index

    folder = Path(s.index_dir) / "bm25"
    m = Manifest.load(Path(s.index_dir) / "manifest.json")
    idx = BM25Index.load(folder)
    if idx is not None and m is not None and idx.digest == m.bm25_digest:
        return idx
    return BM25Index.from_chunks(store.all_chunks(), m.bm25_digest if m else "")


def build_bot(s: Settings, *, embedder=None, store=None, llm="auto"):
    from qa_bot.answer.planner import DocumentLibrary
    from qa_bot.audit import JsonlLog, audit_record
    from qa_bot.bot import Bot
    from qa_bot.ingest.chunking import CHUNKER
    from qa_bot.ingest.manifest import Manifest
    from qa_bot.retrieval.embeddings import CachedEmbedder
    from qa_bot.retrieval.hybrid import HybridRetriever

    embedder = embedder or build_embedder(s)
    if not isinstance(embedder, CachedEmbedder):  # the bench builds several bots over one embedder
        embedder = CachedEmbedder(embedder)  # focus and citation check share sentence vectors
    embedder.embed(["warm up"])  # load the model now, not inside the first question
    store = store or build_store(s)
    m = Manifest.load(Path(s.index_dir) / "manifest.json")
    if m is not None and m.sources:
        m.check(embedder.name, s.chunk_size, s.chunk_overlap, CHUNKER)
        m.check_dim(embedder.dim)  # loaded just above
    retriever = HybridRetriever(
        store, load_bm25(s, store), embedder, top_k=s.top_k, candidates=s.candidates, dense_weight=s.dense_weight,
        bm25_weight=s.bm25_weight, rrf_k=s.rrf_k, min_dense_score=s.min_dense_score,
    )
    audit = JsonlLog(Path(s.data_dir) / "audit.jsonl", int(s.audit_max_mb * 1e6))
    llm = build_llm(s) if llm == "auto" else llm
    if llm is not None and s.warm_passages_mb > 0 and s.focus_chars == 0:
        try:  # focused passages depend on the question: no reading ahead then
            llm.attach_snapshots(Path(s.index_dir) / "kv")
        except OSError as e:  # e.g. a read-only index: answers work, only slower
            print(f"qa-bot: not reading passages ahead ({e})", file=sys.stderr)
    return Bot(
        retriever, llm, embedder, max_tokens=s.max_tokens, warm_bytes=s.warm_passages_mb << 20,
        support_threshold=s.support_threshold, max_question_chars=s.max_question_chars,
        history_turns=s.history_turns, focus_chars=s.focus_chars, on_answer=lambda a: audit.append(audit_record(a)),
        entity_check=s.entity_check, anchor_check=s.anchor_check, context_tokens=s.context_tokens,
        answer_slots=s.concurrency, second_try=s.second_try,
        quote_summaries=s.quote_summaries,
        library=DocumentLibrary(Path(s.index_dir), s.max_file_mb, s.allowed_extensions),
    )
