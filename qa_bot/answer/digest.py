"""Summary and comparison questions answered with the documents' own sentences, quoted and cited.

Asked to summarise or compare whole documents, the 1.5B model writes fluent but shallow text, and it
misstates how facts relate ("the meeting is part of Putin's broader push" where the article says the war
is), which no word-overlap check catches: every word is in the cited paragraph. So code picks the
sentences: a document's opening ones when the question names nothing beyond the document (a news lede
states the main points, the classic LEAD baseline of news summarisation), else the sentences closest to
what the question is about, a few from each document asked about, in reading order. Written here because
llama-index's summary indexes call the LLM for every node.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa_bot.answer.anchors import question_anchors
from qa_bot.answer.citations import Check, Claim, Verified, assemble
from qa_bot.answer.entities import Entity, found, haystack
from qa_bot.answer.guard import is_instruction
from qa_bot.retrieval.embeddings import Embedder
from qa_bot.schema import Chunk, Scored
from qa_bot.text import content_stems, sentence_spans, words

# questions whose answer needs several sentences from whole documents: a request to summarise or compare, or
# what the documents say about something ("according to both articles" asks for a fact, "summarized" too)
WIDE = re.compile(r"\b(summar(ise|ize|y|ies)\b|overview|main points|key (points|takeaways)|compare|comparison|differ|"
                  r"(both|each|the two) (articles?|documents?|pieces?|reports?) (say|describe|report|write|portray|"
                  r"present|explain|cover)|what is (the|this) .{0,40}(article|document|piece|report) about)", re.IGNORECASE)
# words that ask for a summary or name a document, not what it should be about
_ASKING = frozenset(content_stems(
    "summarise summarize summary summaries summarising overview main points point key takeaways takeaway compare "
    "comparison compares differ differs difference differences both each two article articles piece pieces document "
    "documents story stories report reports write give tell short brief briefly describe describes say says said "
    "about me please"))
SENTENCES = 5  # from one document
# from several, shared among them (at least two each): on seeds-dev 4/6/8/10 got 6/6/7/7 of 9 right, 8 is the shortest best
SHARED = 8
MIN_SCORE = 0.35  # the best sentence must reach this to be about the question (as in the extractive backend)
MIN_FOLLOW = 0.25  # and the others this
MIN_WORDS = 6  # shorter ones are captions, credits and headings
_EMAIL = re.compile(r"\S@\S+\.\w")  # "Write to ... at name@paper.com": a contact line, not content
# "Putin, right, met with Zelensky, left, ...": where people stand in a photo says a caption, not the story
_CAPTION = re.compile(r", (right|left|center|centre|top|bottom|above|below|pictured|(second |third )?from (left|right)),",
                      re.IGNORECASE)
_PRONOUNS = frozenset("He She They It This That These Those His Her Their Its".split())
_ALL = re.compile(r"\b(both|each|all|two|three|every)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Pick:
    unit: int  # index into the units: the passage quoted
    span: tuple[int, int]  # inside that passage
    score: float
    text: str
    start: int  # in the document


def is_wide(question: str) -> bool:
    return bool(WIDE.search(question))


@dataclass(frozen=True)
class Request:
    """What a wide question asks: which documents, and about what beyond "summarise the X article"."""

    documents: list[Chunk]
    about: str  # "" for a plain summary request


def request(question: str, documents: Sequence[Chunk], whole: bool) -> Request:
    """The documents the question names ("the WSJ article"); when the corpus fits whole (`whole`), all of them
    if it names none or asks about "both", "each", "all"; none when a larger corpus is not narrowed."""
    naming = _naming(question, documents)
    named: list[Chunk] = []
    for _, d in naming:
        if d not in named:
            named.append(d)
    if whole and (len(documents) < 2 or _ALL.search(question)):
        chosen = list(documents)
    else:
        chosen = named or (list(documents) if whole else [])
    strip = {w for a, _ in naming for w in words(a.text)}
    about = [w for w in words(question) if w not in strip and (st := content_stems(w)) and st[0] not in _ASKING]
    return Request(chosen, " ".join(about))


def _naming(question: str, documents: Sequence[Chunk]) -> list[tuple[Entity, Chunk]]:
    """(term, the document it names) for each question term in one document's title and no other document,
    title or text ("Zelensky" in one title and in both texts names neither). A document's text is scanned
    only for a term some title holds."""
    out = []
    for a in question_anchors(question):
        titled = [d for d in documents if found(a, haystack(d.title, d.source))]
        if len(titled) == 1 and not any(found(a, haystack(d.title, d.source, d.text))
                                        for d in documents if d is not titled[0]):
            out.append((a, titled[0]))
    return out


def digest(units: list[Scored], asked: Request, embedder: Embedder | None) -> Verified | None:
    """The answer to a wide question from `units`, the indexed passages of the documents `asked` about; None
    when no sentence is about what it asks (the model then answers, or refuses)."""
    chosen = asked.documents
    per_doc = SENTENCES if len(chosen) == 1 else max(2, SHARED // len(chosen))
    picks: list[Pick] = []
    for d in chosen:
        found_ = _sentences(d, units)
        own = _closest(asked.about, found_, embedder, per_doc) if asked.about else _main(found_, embedder, per_doc)
        picks += sorted(own, key=lambda p: p.start)  # in reading order, documents in the order read
    if not picks:
        return None
    checks = [Check(Claim(p.text, [p.unit + 1]), p.unit, p.score, p.span) for p in picks]
    return assemble(checks, units, [])


def _sentences(doc: Chunk, units: list[Scored]) -> list[Pick]:
    """The document's sentences that one indexed passage holds whole (the quote is a slice of it), in
    reading order, without captions, credits, headings, contact lines and orders to the assistant."""
    spans = [(i, u.chunk.start, u.chunk.end) for i, u in enumerate(units) if u.chunk.doc_id == doc.doc_id]
    out = []
    for s, e in sentence_spans(doc.text):
        text = doc.text[s:e]
        if (len(words(text)) < MIN_WORDS or text.strip() in doc.title or is_instruction(text) or _EMAIL.search(text)
                or _CAPTION.search(text)):
            continue
        unit = next((i for i, a, b in spans if a <= s and e <= b), None)
        if unit is not None:
            a = units[unit].chunk.start
            out.append(Pick(unit, (s - a, e - a), 1.0, text, s))
    return out


def _main(sentences: list[Pick], embedder: Embedder | None, n: int) -> list[Pick]:
    """A plain summary: the opening sentences (a news lede; all but two of `n`), then the sentences most like
    the whole document (its centroid), each unlike those already picked (maximal marginal relevance)."""
    head = sentences[:max(1, n - 2)]
    if embedder is None or len(sentences) <= n:
        return sentences[:n]
    vecs = embedder.embed([p.text for p in sentences])
    centre = vecs.mean(axis=0)
    chosen = list(range(len(head)))
    while len(chosen) < n:
        def gain(i: int) -> float:
            return float(vecs[i] @ centre) - max(float(vecs[i] @ vecs[j]) for j in chosen)
        rest = [i for i in range(len(sentences)) if i not in chosen and _alone(sentences[i].text)]
        if not rest:
            break
        chosen.append(max(rest, key=gain))
    return [sentences[i] for i in sorted(chosen)]


def _alone(text: str) -> bool:
    """Whether a sentence says who or what it is about when quoted alone: not "He predicted..." nor a bare
    quotation ("“I think we should meet without conditions...”")."""
    first = text.split()[0]
    return first not in _PRONOUNS and not (first[:1] in "\"“'‘" and text.rstrip()[-1:] in "\"”'’")


def _closest(about: str, sentences: list[Pick], embedder: Embedder | None, n: int) -> list[Pick]:
    """The `n` sentences closest to `about`: 0.5 lexical + 0.5 cosine, as focus.score_sentences scores, but
    with each word weighted by how rare it is among the document's sentences ("Putin" in an article about
    Putin tells nothing). A sentence opening with a pronoun ("He predicted...") is passed over: quoted
    alone, it does not say who."""
    sentences = [p for p in sentences if _alone(p.text)]
    stems = set(content_stems(about))
    df = {st: sum(st in set(content_stems(p.text)) for p in sentences) for st in stems}
    idf = {st: math.log((1 + len(sentences)) / (1 + df[st])) for st in stems}
    total = sum(idf.values()) or 1.0
    lex = [sum(idf[st] for st in stems & set(content_stems(p.text))) / total for p in sentences]
    if embedder is not None and sentences:
        vecs = embedder.embed([about, *(p.text for p in sentences)])
        sims = [float(x) for x in vecs[1:] @ vecs[0]]
        scores = [0.5 * a + 0.5 * b for a, b in zip(lex, sims, strict=True)]
    else:
        scores = lex
    ranked = sorted(zip(scores, range(len(sentences)), strict=True), reverse=True)
    if not ranked or ranked[0][0] < MIN_SCORE:
        return []
    return [replace(sentences[i], score=sc) for sc, i in ranked[:n] if sc >= MIN_FOLLOW]
