"""One conversation turn: condense -> retrieve -> answer -> verify. The core every edge calls."""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from qa_bot.answer import anchors as anchor_rules
from qa_bot.answer import digest as digest_rules
from qa_bot.answer.citations import CitationChecker, parse_claims, says_cannot_answer
from qa_bot.answer.extractive import extractive
from qa_bot.answer.focus import focus
from qa_bot.answer.guard import redact
from qa_bot.answer.pasted import pasted
from qa_bot.answer.planner import DocumentLibrary, Plan, documents_that_fit, estimate_tokens
from qa_bot.answer.planner import plan as plan_context
from qa_bot.answer.prompts import PROMPTS_DIR, REFUSAL, render
from qa_bot.errors import BackendError, BadQuestionError
from qa_bot.llm.backends import ChatModel
from qa_bot.retrieval.embeddings import Embedder
from qa_bot.retrieval.hybrid import HybridRetriever, Retrieval
from qa_bot.schema import Answer, Chunk, Removal, Scored


def prompt_order(retrieval: Retrieval) -> list[Scored]:
    """Passages as the model sees them: grouped by document (best document first), in reading order.

    A small model tends to answer from the first passage it reads; reading order keeps a document's
    opening (headline, lede, captions) ahead of later passages that repeat the facts with less detail.
    """
    best: dict[str, int] = {}
    for rank, s in enumerate(retrieval.hits):
        best.setdefault(s.chunk.doc_id, rank)
    return sorted(retrieval.hits, key=lambda s: (best[s.chunk.doc_id], s.chunk.position))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DIGEST_MAX = 3  # a summary or comparison quotes at most this many documents named in a larger corpus
# removals whose reason names the word to change ("names not in the closest passage: Berlin", "the source says
# "illegitimate" where the answer says "legitimate""): only after these is a second try worth its wait. Told that
# its sentence rests on one without the question's words (topic, quote) or has too little support, the model
# wrote the same answer again: on seeds-dev 0 of 11 such second tries were kept, 1 of 8 after these (seeds-test:
# 0 of 13, 2 of 5)
_TOLD_WHAT_TO_CHANGE = frozenset({Removal.ENTITY, Removal.CONTRADICTION, Removal.SPEAKER})
_RARE_WORDS = 4  # chosen on seeds-dev's recorded answers (with share 0.5): 3 would remove 3 right answers for 8 wrong, 4: 2 for 8
_MARKERS = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")


def _neighbours(units: list[Scored]) -> dict[str, str]:
    """Each passage's neighbours in its document (the text around it that the model read too)."""
    out = {}
    for i, s in enumerate(units):
        near = [units[j].chunk.text for j in (i - 1, i + 1)
                if 0 <= j < len(units) and units[j].chunk.doc_id == s.chunk.doc_id]
        out[s.chunk.id] = "\n".join(near)
    return out


def _per_passage(answer: str, numbers: dict[int, list[int]]) -> str:
    """Document markers as the markers of that document's passages: "[2]" -> "[16, 17, ...]"."""

    def swap(m: re.Match) -> str:
        ns = [int(n) for n in re.split(r"\s*[,;]\s*", m.group(1))]
        # a number no document has stays out of range, so the checker drops it and attributes the sentence
        return "[" + ", ".join(str(i) for n in ns for i in numbers.get(n, [n + 10_000])) + "]"

    return _MARKERS.sub(swap, answer)


@dataclass
class Turn:
    question: str
    answer: str


class Bot:
    def __init__(
        self, retriever: HybridRetriever, llm: ChatModel | None, embedder: Embedder, *,
        max_tokens: int = 200, support_threshold: float = 0.5, max_question_chars: int = 2000,
        history_turns: int = 3, focus_chars: int = 0, prompts_dir: Path = PROMPTS_DIR, warm_bytes: int = 0,
        on_answer: Callable[[Answer], None] | None = None, entity_check: bool = True, anchor_check: bool = True,
        library: DocumentLibrary | None = None, context_tokens: int = 0, answer_slots: int = 0,
        second_try: bool = True, quote_summaries: bool = True,
    ):
        # at most `answer_slots` answers in progress at once, whichever surface asked (0 = no limit)
        self._slots: contextlib.AbstractContextManager = (
            threading.BoundedSemaphore(answer_slots) if answer_slots > 0 else contextlib.nullcontext())
        self.retriever = retriever
        self.llm = llm
        self.embedder = embedder
        self.checker = CitationChecker(embedder, support_threshold, entity_check=entity_check, anchor_check=anchor_check)
        self.anchor_check = anchor_check
        self.library, self.context_tokens = library, context_tokens
        self._by_doc: tuple[int, dict[str, list[Chunk]]] | None = None  # indexed passages per document
        self.max_tokens = max_tokens
        self.max_question_chars = max_question_chars
        self.history_turns = history_turns
        self.focus_chars = focus_chars
        self.prompts_dir = prompts_dir
        self.warm_bytes = warm_bytes
        self.on_answer = on_answer
        self.second_try = second_try
        self.quote_summaries = quote_summaries

    @property
    def model_name(self) -> str:
        return self.llm.name if self.llm else "extractive"

    def ask(self, question: str, history: list[Turn] | None = None) -> Answer:
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                return event
        raise AssertionError("stream ended without an answer")

    def clean_question(self, question: str) -> tuple[str, str]:
        """(question, notice): control characters dropped, long input truncated, empty refused."""
        q = _CONTROL.sub(" ", question or "").strip()
        if not q:
            raise BadQuestionError("the question is empty")
        if len(q) > self.max_question_chars:
            return q[: self.max_question_chars], f"question truncated to {self.max_question_chars} characters"
        return q, ""

    def condense(self, question: str, history: list[Turn]) -> str:
        """A follow-up rewritten into a standalone question (needs an LLM; else the question as is)."""
        if not history or self.llm is None:
            return question
        prompt = render("condense", self.prompts_dir, history=history[-self.history_turns :], question=question)
        try:
            text = "".join(self.llm.stream([{"role": "user", "content": prompt}], max_tokens=60, stop=["\n"]))
        except BackendError:
            return question
        text = text.strip().strip('"').strip()
        return text if 3 <= len(text) <= 4 * len(question) + 200 else question

    def sources_for_prompt(self, retrieval: Retrieval, question: str = "") -> list[dict]:
        """The passages the model reads, numbered: focused on the question when `focus_chars` is set."""
        hits = prompt_order(retrieval)
        texts = [s.chunk.text for s in hits]
        if self.focus_chars > 0 and sum(map(len, texts)) > self.focus_chars:
            texts = focus(question, texts, self.embedder, self.focus_chars)
        return [{"number": i + 1, "title": s.chunk.title, "text": redact(t)}
                for i, (s, t) in enumerate(zip(hits, texts, strict=True))]

    def messages(self, question: str, retrieval: Retrieval, plan: Plan | None = None) -> list[dict]:
        """The chat the model reads: retrieved passages, or the plan's documents whole (then, in "document"
        mode, the passages of other documents: rendered without them and without the question, the
        messages are the document's prefix, the same for every question, read ahead once)."""
        if plan is not None and plan.mode in ("documents", "document"):
            sources = [{"number": i + 1, "title": d.title, "text": redact(d.text)} for i, d in enumerate(plan.documents)]
            others = self.sources_for_prompt(Retrieval(list(plan.passages)), question) if plan.passages else []
            sources += [{**o, "number": len(sources) + o["number"]} for o in others]
            system = render("system_documents", self.prompts_dir, refusal=REFUSAL)
        else:
            sources, system = self.sources_for_prompt(retrieval, question), render("system", self.prompts_dir, refusal=REFUSAL)
        return [
            {"role": "system", "content": system},
            {"role": "user", "content": render("answer", self.prompts_dir, sources=sources, question=question, refusal=REFUSAL)},
        ]

    def plan(self, retrieval: Retrieval | None = None) -> Plan:
        """Whole documents when the corpus fits `context_tokens`; else, given a retrieval, the best-matching
        document whole with the passages of other documents, when they fit; either only once its prefix has
        been read (pending until then); else passages."""
        p = plan_context(self.library, self.context_tokens, retrieval.hits if retrieval is not None else ())
        if p.mode in ("documents", "document") and self.llm is not None and not self.llm.prefix_ready(self.prefix(p)):
            what = "the documents are" if p.mode == "documents" else f"{p.documents[0].source} is"
            return Plan("passages", why=f"{what} not read ahead yet: passages until then", pending=True)
        return p

    def prefix(self, plan: Plan) -> list[dict]:
        """What every question of a document plan starts with: its documents whole (no passages, no question)."""
        return self.messages("", Retrieval([]), replace(plan, passages=()))

    def document_prefixes(self, chunks: list[Chunk]) -> list[list[dict]]:
        """When the corpus does not fit `context_tokens`: the prefix of each document that fits with the passages
        of others beside it (top_k - 1 of the corpus's mean size), largest first; [] otherwise."""
        docs = self.library.documents() if self.library is not None and self.context_tokens > 0 else None
        if not docs or not chunks or estimate_tokens(docs) <= self.context_tokens:
            return []
        room = (self.retriever.top_k - 1) * estimate_tokens(tuple(chunks)) // len(chunks)
        return [self.prefix(Plan("document", (d,))) for d in documents_that_fit(docs, self.context_tokens, room)]

    def read_documents_ahead(self, retrieval: Retrieval | None = None) -> dict | None:
        """Reads the prefix a question's plan needs, once (None when it is answered from passages or the prefix
        is ready): the whole-document prefix, or given the question's `retrieval`, its best document's own."""
        p = plan_context(self.library, self.context_tokens, retrieval.hits if retrieval is not None else ())
        if p.mode not in ("documents", "document") or self.llm is None or self.warm_bytes <= 0:
            return None
        prompt = self.prefix(p)
        if self.llm.prefix_ready(prompt):
            return None
        return self._read_prefixes([prompt], prune=False)

    def _read_prefixes(self, prompts: list[list[dict]], prune: bool) -> dict | None:
        """Reads document prefixes ahead in a llama.cpp context of their own (so `serve` answers meanwhile), from
        their first token: resuming one from another prompt's snapshot that shares its start (a passage's system
        prompt) splits it into other batches, which moves the KV values in their last bits and with them greedy
        drafts (seen: 14 of 141 seeds answers). Read alike by every command, the prefix gives `eval`, `serve`,
        `ask` and a fresh clone's CI the same answers. Passages resume as before: re-reading the system prompt
        for each would cost more than the prefix does."""
        assert self.llm is not None
        return self.llm.warm(prompts, self.warm_bytes, prune=prune, side=True)

    def warm(self) -> dict | None:
        """Has the model read ahead what questions will start with (None if it cannot): the whole-document
        prefix when the corpus fits, else the prefix of each document that fits alone (`document_prefixes`)
        and then every passage as the first source of a prompt, with what budget remains.

        Document prefixes are read as `_read_prefixes` says.

        Passages are read in the order documents are (every document's first passage, then the
        second...), since reading order puts a document's opening first in most prompts.
        """
        if self.llm is None or self.warm_bytes <= 0:
            return None
        p = plan_context(self.library, self.context_tokens)
        if p.mode == "documents":
            report = self._read_prefixes([self.prefix(p)], prune=True)
            return None if report is None else {**report, "what": "documents"}
        chunks = sorted(self.retriever.all_chunks(), key=lambda c: (c.position, c.doc_id, c.id))
        prompts = (self.messages("", Retrieval([Scored(c, 1.0)])) for c in chunks)  # rendered as read
        prefixes = self.document_prefixes(chunks)
        if not prefixes:
            return self.llm.warm(prompts, self.warm_bytes)
        # kept by the second pass, which prunes what it is not given: the prefixes read, then the passages
        first = self._read_prefixes(prefixes, prune=False)
        if first is None:
            return None
        ready = [m for m in prefixes if self.llm.prefix_ready(m)]
        report = self.llm.warm(itertools.chain(ready, prompts), self.warm_bytes)
        if report is None:
            return None
        return {**report, "made": first["made"] + report["made"], "documents": len(ready),
                "seconds": round(first["seconds"] + report["seconds"], 2)}

    def document_units(self, plan: Plan) -> tuple[list[Scored], dict[int, list[int]]]:
        """The indexed passages of the planned documents, in order, and document number -> their 1-based
        positions: a sentence citing a whole document is checked against its passages, so a name must
        stand in the same passage as the claim, and the quote is that passage's sentence. In "document"
        mode the passages of other documents follow, one number each, as the model read them."""
        count = self.retriever.store.count()
        if self._by_doc is None or self._by_doc[0] != count:
            by_doc: dict[str, list[Chunk]] = {}
            for c in self.retriever.all_chunks():
                by_doc.setdefault(c.doc_id, []).append(c)
            self._by_doc = (count, {d: sorted(cs, key=lambda c: c.position) for d, cs in by_doc.items()})
        units: list[Scored] = []
        numbers: dict[int, list[int]] = {}
        for n, d in enumerate(plan.documents, 1):
            for c in self._by_doc[1].get(d.doc_id, []):
                units.append(Scored(c, 1.0))
                numbers.setdefault(n, []).append(len(units))
        for n, s in enumerate(prompt_order(Retrieval(list(plan.passages))), len(plan.documents) + 1):
            units.append(s)
            numbers[n] = [len(units)]
        return units, numbers

    def stream(
        self, question: str, history: list[Turn] | None = None, stop: threading.Event | None = None,
        top_k: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yields text pieces as the model writes them, then the checked Answer (top_k: passages, per call).

        Holds one of the answer slots from its first step until it ends or is closed (a client gone)."""
        with self._slots:
            yield from self._answer(question, history, stop, top_k)

    def _answer(
        self, question: str, history: list[Turn] | None, stop: threading.Event | None, top_k: int | None,
    ) -> Iterator[str | Answer]:
        t0 = time.perf_counter()
        original = question
        question, notice = self.clean_question(question)
        standalone = self.condense(question, history or [])
        retrieval = self.retriever.retrieve(standalone, top_k=top_k)
        ans = Answer(original, standalone, REFUSAL, True, [], retrieval.hits, self.model_name, notice=notice)
        ans.timings["retrieval_ms"] = retrieval.ms
        ans.candidates = retrieval.candidates
        if not retrieval.hits:
            ans.fallback = "refusal"
            yield from self._finish(ans, t0)
            return
        if self.quote_summaries and digest_rules.is_wide(standalone) and self._digest(ans, standalone):
            yield ans.answer
            yield from self._finish(ans, t0)
            return
        plan = self.plan(retrieval) if self.llm is not None else Plan("passages")
        openings, why = self._anchored(standalone, retrieval, plan)
        if why:  # nothing retrieved is about what the question names: a model would answer from look-alikes
            ans.fallback = "refusal"
            ans.add_notice(why)
            yield from self._finish(ans, t0)
            return
        if self.llm is None:
            self._extractive(ans, standalone, retrieval)
            yield from self._finish(ans, t0)
            return
        ans.mode = plan.mode
        wide = plan.mode in ("documents", "document") and digest_rules.is_wide(standalone)
        max_tokens = self.max_tokens * 2 if wide else self.max_tokens
        text = ""
        messages = self.messages(standalone, retrieval, plan)
        try:
            for piece in self._pieces(messages, max_tokens, stop):
                if not text:
                    ans.timings["first_token_ms"] = (time.perf_counter() - t0) * 1000
                text += piece
                yield piece
            if stop is not None and stop.is_set():
                ans.add_notice("stopped by user")
        except BackendError as e:
            ans.notice = f"generation failed ({e}); showing source sentences instead"
            self._extractive(ans, standalone, retrieval)
            yield from self._finish(ans, t0)
            return
        ans.raw_answer = text
        self._check(ans, text, retrieval, plan, openings)
        if (self.second_try and ans.refused and plan.mode in ("documents", "document")
                and any(r["check"] in _TOLD_WHAT_TO_CHANGE for r in ans.removed_checks)
                and not (stop is not None and stop.is_set())):
            self._second_try(ans, messages, text, retrieval, plan, openings, max_tokens, stop)
        yield from self._finish(ans, t0)

    def _pieces(self, messages: list[dict], max_tokens: int, stop: threading.Event | None) -> Iterator[str]:
        """What the model writes, piece by piece, until it ends or the user stops it (BackendError passes)."""
        assert self.llm is not None
        for piece in self.llm.stream(messages, max_tokens=max_tokens):
            yield piece
            if stop is not None and stop.is_set():
                return

    def _digest(self, ans: Answer, question: str) -> bool:
        """A summary or comparison: the documents' own sentences, quoted (see digest.py), with no model, so
        also before a prefix is read and with the extractive backend. About every document when the corpus
        fits whole, else only about the documents the question names (at most `_DIGEST_MAX`); False when
        there are none, they lack what the question names, or no sentence is about the question.
        Before the anchor check on retrieved passages: a summary is about documents, not passages."""
        p = plan_context(self.library, self.context_tokens)
        whole = p.mode == "documents"
        docs = p.documents if whole else self.library.documents() if self.library is not None else None
        if not docs:
            return False
        asked = digest_rules.request(question, docs, whole)
        chosen = asked.documents
        if not chosen or len(chosen) > _DIGEST_MAX:
            return False
        anchors = anchor_rules.question_anchors(question) if self.anchor_check else []
        if anchors and not anchor_rules.qualifies(anchors, ["\n".join(f"{d.title}\n{d.text}" for d in chosen)]):
            return False  # "Summarise the Bloomberg article": the anchor check refuses it, as any question
        units, _ = self.document_units(Plan("documents", tuple(chosen)))
        v = digest_rules.digest(units, asked, self.embedder)
        if v is None:
            return False
        ans.answer, ans.citations, ans.refused, ans.fallback = v.answer, v.citations, False, "extractive"
        ans.mode = "documents" if whole else "document"
        return True

    def _second_try(self, ans: Answer, messages: list[dict], text: str, retrieval: Retrieval, plan: Plan,
                    openings: dict[str, str], max_tokens: int, stop: threading.Event | None) -> None:
        """Every sentence of a whole-document answer failed a check, one of them a check that names what to change
        (`_TOLD_WHAT_TO_CHANGE`): the model is told which and why, once, and its new answer is checked the same
        way. Cheap: it resumes from the state it ended in and reads only the feedback. Not in passage mode: there
        a failed check mostly means the passages lack the answer, and told so, the model rewrote a number to one
        the passage holds (SQuAD 2.0: no answer gained, one false premise let through)."""
        assert self.llm is not None
        removed = [{**r, "detail": re.sub(r"\s*\([^()]*\)$", "", r["detail"])} for r in ans.removed_checks]
        feedback = render("retry", self.prompts_dir, removed=removed)
        chat = [*messages, {"role": "assistant", "content": text}, {"role": "user", "content": feedback}]
        try:
            again = "".join(self._pieces(chat, max_tokens, stop))
        except BackendError:
            return
        if stop is not None and stop.is_set():
            return  # stopped by the user: the first answer's refusal stands
        ans.second_draft = again
        self._check(ans, again, retrieval, plan, openings)  # its removals follow the first answer's
        if not ans.refused:
            ans.add_notice("answered a second time: every sentence of the first answer failed a check (listed in the "
                           "why panel)")

    def _check(self, ans: Answer, text: str, retrieval: Retrieval, plan: Plan, openings: dict[str, str]) -> None:
        """What the model wrote becomes the answer only as far as code can check its citations."""
        question = ans.standalone_question
        if not text.strip():
            self._extractive(ans, question, retrieval)
            return
        if says_cannot_answer(text):
            ans.fallback = "refusal"
            return
        ordered = prompt_order(retrieval) if plan.mode == "passages" else []  # as numbered for the model
        claims = parse_claims(text) if plan.mode == "passages" else None  # parsed once, for both checks
        if claims is not None and self.anchor_check and not digest_rules.is_wide(question):
            said = [c.text for c in claims]
            why = pasted(said, [s.chunk.text for s in ordered])
            if why:  # passages without the answer, copied out: no sentence of it answers (see pasted.py)
                ans.removed_sentences += said
                ans.removed_checks += [{"sentence": s, "check": Removal.PASTED, "detail": why} for s in said]
                ans.fallback = "refusal"
                return
        # what retrieval picked may be a look-alike sharing most words with the question: its rarest words
        # tell them apart (not when the model read the whole corpus: then nothing was picked)
        topic = self.retriever.rarest(question) if self.anchor_check and plan.mode != "documents" else []
        # having read everything, the model may answer from a sentence about something else that shares its
        # words: of the question's rarest words (_RARE_WORDS) a claim repeats, its source sentence must hold one
        # (not words in most passages: "Zelensky" in the seeds says nothing of which sentence is meant)
        rare = (self.retriever.rarest(question, _RARE_WORDS, share=0.5)
                if self.anchor_check and plan.mode == "documents" else [])
        if plan.mode in ("documents", "document"):  # whole documents: checked against their indexed passages
            units, numbers = self.document_units(plan)
            v = self.checker.verify(_per_passage(text, numbers), units, question, openings, _neighbours(units),
                                    topic=topic, asked=ans.question, rare=rare)
        else:
            v = self.checker.verify(text, ordered, question, openings, topic=topic, asked=ans.question, claims=claims)
        ans.removed_sentences += v.removed
        ans.removed_checks += v.removed_checks
        if v.citations:
            ans.answer, ans.citations, ans.refused = v.answer, v.citations, False
        else:
            ans.fallback = "refusal"

    def _anchored(self, question: str, retrieval: Retrieval, plan: Plan) -> tuple[dict[str, str], str]:
        """(document openings fetched, why no passage can answer or ""): the anchor check before answering.

        A document's opening is fetched only for passages that lack the anchors on their own and title.
        In document mode the model reads every document whole, so a whole document counts as the opening.
        """
        anchors = anchor_rules.question_anchors(question) if self.anchor_check else []
        if plan.mode == "documents":  # the model reads them all together: anchors may be spread across them
            together = "\n\n".join(f"{d.title}\n{d.text}" for d in plan.documents)
            why = anchor_rules.unanswerable(anchors, [(together,)]) if anchors else ""
            return {d.doc_id: together for d in plan.documents}, why
        if not anchors:
            return {}, ""
        openings = {s.chunk.doc_id: s.chunk.text for s in retrieval.hits if s.chunk.position == 0}
        openings |= {d.doc_id: f"{d.title}\n{d.text}" for d in plan.documents}  # "document" mode: read whole
        wanted = {s.chunk.doc_id for s in retrieval.hits if s.chunk.doc_id not in openings
                  and not anchor_rules.qualifies(anchors, (s.chunk.text, s.chunk.title))}
        if wanted:
            openings |= {d: c.text for d, c in self.retriever.store.openings(sorted(wanted)).items()}
        why = anchor_rules.unanswerable(anchors, [anchor_rules.passage_texts(s.chunk, openings) for s in retrieval.hits])
        return openings, why

    def _extractive(self, ans: Answer, question: str, retrieval: Retrieval) -> None:
        v = extractive(question, prompt_order(retrieval), self.embedder)
        if v is None:
            ans.fallback = "refusal"
            return
        ans.answer, ans.citations, ans.refused, ans.fallback = v.answer, v.citations, False, "extractive"

    def _finish(self, ans: Answer, t0: float) -> Iterator[Answer]:
        ans.timings["total_ms"] = (time.perf_counter() - t0) * 1000
        ans.timings.setdefault("first_token_ms", ans.timings["total_ms"])
        if self.on_answer is not None:
            self.on_answer(ans)
        yield ans
