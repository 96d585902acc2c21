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
    bot.ask("warm up: who met whom?")  # page the weights in; fill the system-prompt cache
    _raw_run(raw, [{"role": "user", "content": "Say OK."}], 2)
    rows: list[dict] = []
    for i, q in enumerate(questions):
        if i >= max(2, ratio_questions) and time.monotonic() > deadline:
            break
        row, messages = _ask(bot, raw, q, i)
        if i < ratio_questions and row["first_token_s"] < row["answer_s"]:
            text, rfirst, rtotal = _raw_run(raw, messages, bot.max_tokens)
            row.update(raw_tokens=_ntokens(raw, text), raw_first_token_s=round(rfirst, 3), raw_answer_s=round(rtotal, 3),
                       same_text=text == row.pop("raw_answer"))
        row.pop("raw_answer", None)
        rows.append(row)
        echo(f"  gen {i + 1}: first token {row['first_token_s']:.1f} s, answer {row['answer_s']:.1f} s, "
             f"{row['tokens']} tokens" + (f"; raw {row['raw_answer_s']:.1f} s" if "raw_answer_s" in row else ""))
    return _summary(bot, rows), rows


def _ask(bot, raw, q: dict, i: int) -> tuple[dict, list[dict]]:
    """One question through `Bot.stream`, timed; the row and the messages the model was given."""
    from qa_bot.retrieval.hybrid import Retrieval
    from qa_bot.schema import Answer

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
    retrieval = Retrieval(ans.retrieved)
    plan = bot.plan(retrieval) if ans.mode in ("documents", "document") else None
    messages = bot.messages(ans.standalone_question, retrieval, plan)
    return {
        "id": q.get("id", str(i)), "question": q["question"], "answer": ans.answer, "refused": ans.refused, "mode": ans.mode,
        "correct": is_correct(q, ans.answer, ans.refused), "first_token_s": round(first or total, 3),
        "answer_s": round(total, 3), "tokens": _ntokens(raw, ans.raw_answer), "raw_answer": ans.raw_answer,
        "prompt_tokens": sum(_ntokens(raw, m["content"]) for m in messages),
    }, messages


def _summary(bot, rows: list[dict]) -> dict:
    """Latency percentiles over every row; throughput and decode ratios over the rows also run raw."""
    raw_rows = [r for r in rows if "raw_first_token_s" in r]
    pipe_tok, pipe_s = sum(r["tokens"] for r in raw_rows), sum(r["answer_s"] for r in raw_rows)
    raw_tok, raw_s = sum(r["raw_tokens"] for r in raw_rows), sum(r["raw_answer_s"] for r in raw_rows)
    pipe_decode = [r["tokens"] / (r["answer_s"] - r["first_token_s"]) for r in raw_rows
                   if r["raw_answer_s"] > r["raw_first_token_s"]]
    raw_decode = [r["raw_tokens"] / (r["raw_answer_s"] - r["raw_first_token_s"]) for r in raw_rows
                  if r["raw_answer_s"] > r["raw_first_token_s"]]
    p_rate = pipe_tok / pipe_s if pipe_s else 0.0
    r_rate = raw_tok / raw_s if raw_s else 0.0
    firsts = [r["first_token_s"] for r in rows]
    totals = [r["answer_s"] for r in rows]
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
    }


def _cache_figures(cache, asks: int) -> dict:
    """How often a prompt resumed from an earlier snapshot (the warm-up question included)."""
    if cache is None:
        return {"prompt_cache": "off"}
    return {"prompt_cache_hits": cache.hits, "prompt_cache_asks": asks,
            "prompt_cache_reused_tokens_mean": round(cache.reused_tokens / cache.hits) if cache.hits else 0}
