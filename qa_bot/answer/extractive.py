"""The extractive backend (`llm_provider = "extractive"`): no model, the source sentences that best match the
question, quoted verbatim and cited through the same assembly as checked answers."""

from __future__ import annotations

from qa_bot.answer.citations import Check, Claim, Verified, assemble
from qa_bot.answer.focus import score_sentences
from qa_bot.retrieval.embeddings import Embedder
from qa_bot.schema import Scored
from qa_bot.text import content_stems


def extractive(question: str, sources: list[Scored], embedder: Embedder | None, max_sentences: int = 2) -> Verified | None:
    """No LLM: the source sentences that best match the question, cited. None when nothing matches."""
    if not content_stems(question) or not sources:
        return None
    scored = score_sentences(question, [s.chunk.text for s in sources], embedder)
    cands = sorted(((s.score, s.passage, s.span) for s in scored), key=lambda c: -c[0])
    picked = [c for c in cands[:max_sentences] if c[0] >= 0.35]
    if not picked:
        return None
    checks = [
        Check(Claim(sources[i].chunk.text[a:b], [i + 1]), i, score, (a, b)) for score, i, (a, b) in picked
    ]
    return assemble(checks, sources, [])
