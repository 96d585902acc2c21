"""Passage focus: each passage cut to the sentences that bear on the question, within a budget.

Reading the prompt is most of the wait for a local answer (llama.cpp reads about 40-90 prompt tokens/s
on 2 cores, and four whole passages are ~650 tokens). So the model reads, from every passage, the
sentences that best match the question (lexical overlap + embedding similarity; the extractive answer
uses the same scores), in reading order, until `budget` characters are spent. Every passage keeps at least
its best sentence, so its number stays meaningful; the citation check still verifies against the whole
passage. Our own code because LlamaIndex's SentenceEmbeddingOptimizer works on its nodes and its own
sentence splitter, and here the model must read exactly the sentence spans the checker verifies.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa_bot.answer.guard import is_instruction
from qa_bot.retrieval.embeddings import Embedder
from qa_bot.text import content_stems, coverage, sentence_spans

GAP = " … "


@dataclass(frozen=True)
class Sentence:
    passage: int
    span: tuple[int, int]
    score: float


def score_sentences(question: str, texts: list[str], embedder: Embedder | None) -> list[Sentence]:
    """Every usable sentence of every passage, scored 0.5 lexical + 0.5 cosine (lexical only without an embedder)."""
    q = set(content_stems(question))
    found: list[tuple[int, tuple[int, int], float]] = []
    for i, text in enumerate(texts):
        for s, e in sentence_spans(text):
            if is_instruction(text[s:e]):  # orders to the assistant are never shown (see guard.py)
                continue
            lex = coverage(q, text[s:e])
            found.append((i, (s, e), lex))
    if embedder is None or not found:
        return [Sentence(i, span, lex) for i, span, lex in found]
    vecs = embedder.embed([question, *(texts[i][s:e] for i, (s, e), _ in found)])
    sims = vecs[1:] @ vecs[0]
    return [Sentence(i, span, 0.5 * lex + 0.5 * float(sim)) for (i, span, lex), sim in zip(found, sims, strict=True)]


def focus(question: str, texts: list[str], embedder: Embedder | None, budget: int) -> list[str]:
    """The passages as the model should read them: whole if they fit in `budget` characters, else cut."""
    if budget <= 0 or sum(len(t) for t in texts) <= budget:
        return list(texts)
    scored = score_sentences(question, texts, embedder)
    ranked = sorted(scored, key=lambda s: -s.score)
    chosen: set[tuple[int, tuple[int, int]]] = set()
    seen: set[str] = set()  # neighbouring passages overlap: a sentence is read once
    spent = 0

    def take(s: Sentence) -> None:
        nonlocal spent
        chosen.add((s.passage, s.span))
        seen.add(texts[s.passage][s.span[0] : s.span[1]])
        spent += s.span[1] - s.span[0]

    for i in range(len(texts)):  # every passage keeps its best sentence not shown yet
        own = [s for s in ranked if s.passage == i]
        fresh = [s for s in own if texts[i][s.span[0] : s.span[1]] not in seen]
        if own:
            take((fresh or own)[0])
    for s in ranked:
        if texts[s.passage][s.span[0] : s.span[1]] not in seen and spent + s.span[1] - s.span[0] <= budget:
            take(s)
    return [_join(text, sorted(span for p, span in chosen if p == i)) for i, text in enumerate(texts)]


def _join(text: str, spans: list[tuple[int, int]]) -> str:
    """The chosen sentences in reading order; a gap mark where sentences were left out."""
    out = ""
    prev_end = None
    for s, e in spans:
        if prev_end is not None:
            between = text[prev_end:s]
            out += " " if not between.strip() else GAP
        out += text[s:e]
        prev_end = e
    return out
