"""Citations checked by code: parse [n] markers, check each sentence's support, pick verbatim quotes.

Support = lexical coverage (share of the claim's content-word stems found in the cited passage) blended
with embedding similarity (MiniLM cosine between the claim and its best passage sentence). Lexical
coverage catches invented names and numbers; the embedding term forgives paraphrase. Every name, number
and date in a claim must appear in what it cites (`entities`), and what a claim cites must mention what
the question is about (`anchors`). No cross-encoder or NLI model ships inside a PyPI package here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from qa_bot.answer import anchors as anchor_rules
from qa_bot.answer import asked as asked_rules
from qa_bot.answer import entities as entity_rules
from qa_bot.answer import speakers as speaker_rules
from qa_bot.answer.guard import is_instruction
from qa_bot.answer.polarity import contradiction
from qa_bot.retrieval.embeddings import Embedder
from qa_bot.schema import Citation, Removal, Scored
from qa_bot.text import STOPWORDS, content_stems, coverage, numbers, sentence_spans, words

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# "According to [3], X" / "As stated in source [2], X": the marker is kept, the phrase goes.
_ACCORDING = re.compile(
    r"\b(?:according to|as (?:stated|said|mentioned|reported) in|as per|based on|from)\s+(?:source\s*)?"
    r"(?=\[\d)(\[\d+(?:\s*[,;]\s*\d+)*\])\s*,?\s*",
    re.IGNORECASE,
)
# "The WSJ says X, while the NYT says Y": two claims from two documents, checked apart if the whole fails
_CLAUSES = re.compile(r",\s+(?:while|whereas)\s+|;\s+")
# share of a claim's content words (past "the article says") its passage or title must hold, whatever the
# embedding similarity: a sentence mostly made of words its source lacks is the model's own, however alike
# it reads ("This is because rich countries have more resources and can afford to pay higher wages")
MIN_OVERLAP = 0.5
_META = frozenset(content_stems("article articles document documents source sources passage piece report discusses "
                                "says states mentions notes reports highlights describes according"))
# where a sentence may be cut, keeping its head: before a comma, a relative or a conjunction (or ", with": "X has
# softened, with the Kremlin acknowledging Y" is two claims)
_CONJUNCTIONS = (r"\s+(?=(?:who|which|where|while|and|but|because|after|before|including|when|although|though)\b)"
                 r"|(?<=,)\s+(?=with\b)")
_BOUNDARY = re.compile(r",\s+|" + _CONJUNCTIONS)
_CONJUNCTION = re.compile(_CONJUNCTIONS)  # not a comma: "Ushakov, Russia's adviser, said that ...": no clause before it
# "on February 14, 2023", "in March 2022": a month (and day) with a year; its preposition, if any, kept apart
_MONTH_YEAR = re.compile(
    r"(?:\b(?P<prep>[Oo]n|[Ii]n)\s+)?(?P<month>\b(?:" + "|".join(m.title() for m in entity_rules.MONTHS) + r")"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?),?\s+(?P<year>\d{4})\b")
# share of what a claim adds to the question (content stems the question lacks) that the sentence it rests on, one
# sentence either side or the title must hold: the quote a reader is shown has to show the answer, not a sentence
# that shares the question's words while the answer's words come from elsewhere in the passage (or from nowhere)
MIN_SHOWN = 0.5
_SHOWN_AROUND = 1  # sentences either side of the quoted one, for the quote and the rare-word checks (chosen on
# seeds-dev: 0 lost one more right answer)
# checks a claim can fail for its tail alone: the head rests on one source sentence, the tail on another or none
_SPLICED = frozenset({Removal.TOPIC, Removal.QUOTE})
_REASON = re.compile(r"\b(?:because|since|due to|in order to|so that)\b", re.IGNORECASE)
_YES_NO = frozenset(content_stems("yes no"))  # answers a question; no quote holds it
_ENUMERATOR = re.compile(r"^(?:\d{1,2}[.)]|[-*•])(?:\s+|$)")
_LEADING = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_CANNOT = re.compile(
    r"cannot answer|can't answer|can not answer|unable to answer|not (?:in|contained in|found in|mentioned in|"
    r"provided in|present in|stated in|available in) (?:the )?(?:provided )?sources|do(?:es)? not (?:contain|mention|"
    r"provide|say|specify|include|state)|no information|don't know|do not know|not specified|not mentioned",
    re.IGNORECASE,
)


@dataclass
class Claim:
    text: str  # sentence without markers
    markers: list[int]


@dataclass
class Check:
    claim: Claim
    source_index: int | None  # 0-based index into the sources given to the model
    score: float
    quote_span: tuple[int, int] | None  # offsets inside the chunk text
    failed: tuple[Removal, str] | None = None  # (check, detail) when no passage supports the claim


@dataclass(frozen=True)
class _Asking:
    """What one answer's sentences are checked against, besides their sources."""

    anchors: list[entity_rules.Entity]  # what the question names (anchors.py)
    topic: tuple[str, ...]  # its rarest stems: a sentence's passage must hold one
    rare: tuple[str, ...]  # its rare stems: of those a sentence repeats, the sentence it rests on must hold one
    stems: frozenset[str]  # what the question (as asked and standalone) already says, with words like "article"
    openings: dict[str, str]  # each document's opening by doc id


@dataclass
class Verified:
    answer: str
    citations: list[Citation]
    removed: list[str] = field(default_factory=list)
    removed_checks: list[dict[str, str]] = field(default_factory=list)  # {"sentence", "check", "detail"} per removal


def says_cannot_answer(text: str) -> bool:
    return bool(_CANNOT.search(text))


def clauses(claim: Claim) -> list[Claim]:
    """A sentence joining two statements ("X, while Y", "X; Y") as two claims with its markers; [] if one."""
    parts = [p.strip() for p in _CLAUSES.split(claim.text) if p.strip()]
    if len(parts) < 2:
        return []
    end = claim.text.rstrip()[-1:] if claim.text.rstrip()[-1:] in ".!?" else "."
    return [Claim(p[:1].upper() + p[1:] + ("" if p[-1:] in ".!?" else end), list(claim.markers)) for p in parts]


def parse_claims(answer: str) -> list[Claim]:
    """Split an answer into sentences and pull out the [n] markers of each."""
    claims: list[Claim] = []
    for s, e in sentence_spans(answer.strip()):
        sent = answer.strip()[s:e]
        lead = _LEADING.match(sent)
        if lead and claims:  # "… a clown." [2] Next sentence: the marker closes the previous sentence
            claims[-1].markers.extend(int(n) for n in re.findall(r"\d+", lead.group(0)))
            sent = sent[lead.end() :]
        markers = [int(n) for grp in MARKER.findall(sent) for n in re.split(r"[,;]\s*", grp.replace(" ", ""))]
        text = _ACCORDING.sub("", sent)
        text = _ENUMERATOR.sub("", MARKER.sub("", text).strip()).strip()  # "2. Putin said..." in a list
        text = text[:1].upper() + text[1:]
        if not text:
            if markers and claims:  # a marker standing after the sentence end belongs to the previous sentence
                claims[-1].markers.extend(markers)
            continue
        claims.append(Claim(text, markers))
    return claims


class CitationChecker:
    """Keeps the answer sentences their cited passages support, re-attributes or removes the others."""

    def __init__(self, embedder: Embedder | None, threshold: float = 0.5, *, entity_check: bool = True,
                 anchor_check: bool = True, min_overlap: float = MIN_OVERLAP):
        self.embedder = embedder
        self.threshold = threshold
        self.min_overlap = min_overlap
        self.entity_check = entity_check
        self.anchor_check = anchor_check

    def verify(self, answer: str, sources: list[Scored], question: str = "",
               openings: dict[str, str] | None = None, context: dict[str, str] | None = None,
               topic: Sequence[str] = (), asked: str = "", rare: Sequence[str] = (),
               claims: list[Claim] | None = None) -> Verified:
        """Check each sentence; `question` gives the anchors, `openings` each document's first passage by doc id.
        `topic`: the question's rarest word stems in the index; a kept sentence's passage must hold one.
        `rare`: the same kind of stems; of those a kept sentence repeats, the source sentence it rests on (with one
        sentence either side, as for the quote check: "… she added" names its speaker a sentence earlier; or its
        passage's title) must hold one ("The proposed summit will be held in Paris" cannot rest on the sentence
        about the 2019 meeting).
        `asked`: the question as written when `question` is its standalone form (see asked.py).
        `claims`: `parse_claims(answer)` when the caller has parsed it already."""
        claims = parse_claims(answer) if claims is None else claims
        # a sentence's first word is a name if any of these writes it capitalised mid-sentence
        known = entity_rules.known_names(answer, question, *(s.chunk.text for s in sources))
        checks: list[Check] = []
        for c in claims:
            ch = self._check(c, sources, known, context or {})
            parts = clauses(c) if ch.source_index is None else []
            split = [self._check(p, sources, known, context or {}) for p in parts]
            for repair in (self._dated, self._head):  # a failed name, number or date: cut it, else the tail
                if not any(x.source_index is not None for x in split) and ch.failed and ch.failed[0] == Removal.ENTITY:
                    split = repair(c, ch.failed, sources, known, context or {})
            checks.extend(split if any(x.source_index is not None for x in split) else [ch])
        asking = _Asking(anchor_rules.question_anchors(question) if self.anchor_check else [], tuple(topic), tuple(rare),
                         frozenset(content_stems(question + "\n" + asked)) | _META | _YES_NO, openings or {})
        kept: list[Check] = []
        removed: list[str] = []
        reasons: list[dict[str, str]] = []
        failed: tuple[Removal, str] | None  # (check, reason) for a sentence removed
        for ch in checks:
            if ch.source_index is None and not content_stems(ch.claim.text):
                continue  # punctuation or a lone marker: nothing to keep or to report
            failed = (ch.failed or (Removal.SUPPORT, "")) if ch.source_index is None else self._shown(ch, sources, asking, known)
            if failed is not None and failed[0] in _SPLICED:  # only `_shown` fails these: ch has a source
                cut = self._spliced(ch, failed, sources, known, context or {}, asking)
                if cut:  # "X because Y and Z" where Z comes from another sentence: X because Y, Z removed
                    kept.append(cut[0])
                    ch = cut[1]
            if failed is None:
                kept.append(ch)
                continue
            removed.append(ch.claim.text)
            reasons.append({"sentence": ch.claim.text, "check": failed[0], "detail": failed[1]})
        # the kept sentences together must give what the question asks for (a date for "when"...)
        open_ = asked_rules.unanswered(question, [ch.claim.text for ch in kept], known, asked,
                                       [_quote(ch, sources) for ch in kept]) if self.entity_check else ""
        if open_:
            removed += [ch.claim.text for ch in kept]
            reasons += [{"sentence": ch.claim.text, "check": Removal.ANSWER_TYPE, "detail": open_} for ch in kept]
            kept = []
        v = assemble(kept, sources, removed)
        v.removed_checks = reasons
        return v

    def _shown(self, ch: Check, sources: list[Scored], asking: _Asking, known: frozenset[str]) -> tuple[Removal, str] | None:
        """(check, reason) when a supported claim's passage does not show it or says the opposite; None if it passes."""
        if (failed := self._unshown(ch, sources, asking)) is None and (
                said := self._contradicted(ch.claim.text, sources, known)):
            failed = (Removal.CONTRADICTION, said)
        return failed

    def _spliced(self, ch: Check, failed: tuple[Removal, str], sources: list[Scored], known: frozenset[str],
                 context: dict[str, str], asking: _Asking) -> list[Check]:
        """A sentence whose head one source sentence shows and whose tail comes from another ("X because Y and Z"):
        [its longest head before a conjunction that passes every check, the tail as removed]; [] if none. The head
        must still answer: say something besides the question's own words, and keep the sentence's reason ("X
        because Y": X alone restates what a "why" question asks about)."""
        reason = _REASON.search(ch.claim.text) is not None

        def answers(head: Check) -> bool:
            adds = set(content_stems(asked_rules.without_attribution(head.claim.text))) - asking.stems
            return (bool(adds) and (not reason or _REASON.search(head.claim.text) is not None)
                    and self._shown(head, sources, asking, known) is None)

        return self._head(ch.claim, failed, sources, known, context, _CONJUNCTION, answers)

    def _unshown(self, ch: Check, sources: list[Scored], asking: _Asking) -> tuple[Removal, str] | None:
        """(check, reason) when, with `anchor_check`, the passage a claim rests on supports it but does not show it; in
        order: what the question names (anchor), its rarest words (topic), what the claim adds (quote), who
        speaks (speaker). None when it shows it."""
        assert ch.source_index is not None and ch.quote_span is not None
        if not self.anchor_check:
            return None
        chunk = sources[ch.source_index].chunk
        texts = anchor_rules.passage_texts(chunk, asking.openings)
        if asking.anchors and not anchor_rules.qualifies(asking.anchors, texts):
            missing = ", ".join(a.text for a in anchor_rules.absent(asking.anchors, texts))
            return Removal.ANCHOR, f"the cited passage does not mention: {missing}"
        if asking.topic and not set(asking.topic) & set(content_stems(" ".join(texts))):
            return Removal.TOPIC, f"the cited passage has none of the question's rarest words (stems): {', '.join(asking.topic)}"
        quoted = _quoted_stems(ch, sources)  # what the rare and quote checks read
        repeated = set(asking.rare) & set(content_stems(ch.claim.text))
        if repeated and not repeated & quoted:
            return Removal.TOPIC, ("the sentence it rests on (and those beside it) has none of the question's words it "
                             f"repeats (stems): {', '.join(sorted(repeated))}")
        added = set(content_stems(asked_rules.without_attribution(ch.claim.text))) - asking.stems  # "According to
        # the NYT, X": where it read X
        shown = len(added & quoted) / len(added) if added else 1.0
        if shown < MIN_SHOWN:
            return Removal.QUOTE, (f"the sentence it rests on (and those beside it) holds {shown:.0%} of what it adds to the "
                             f"question (at least {MIN_SHOWN:.0%})")
        who = speaker_rules.misattributed(ch.claim.text, chunk.text[ch.quote_span[0]:ch.quote_span[1]])
        return (Removal.SPEAKER, who) if who else None

    def _dated(self, claim: Claim, failed: tuple[Removal, str], sources: list[Scored], known: frozenset[str],
               context: dict[str, str]) -> list[Check]:
        """A date the model put together from two ("On February 2023, Putin suggested..." where the passage
        says "In February" and the year is another event's): the sentence with the month or the year cut,
        whichever a passage then backs (the better supported if both), and the cut part as removed; [] if
        neither. Only the date is cut (and "on" becomes "in" before a month or a year); the rest is the model's words."""
        m = _MONTH_YEAR.search(claim.text)
        if m is None:
            return []
        text, prep = claim.text, m["prep"] or ""
        in_ = ("I" if prep[:1].isupper() else "i") + "n " if prep else ""  # "on" fits a day, not a month or a year
        cuts = (  # (sentence without the year, the year) and (sentence without month and day, the month)
            (text[: m.start()] + (prep + " " if any(x.isdigit() for x in m["month"]) else in_) + m["month"]
             + text[m.end():], m["year"]),
            (text[: m.start()] + in_ + m["year"] + text[m.end():], text[m.start("month"): m.start("year")].strip(" ,")),
        )
        best: tuple[Check, str] | None = None
        for cut, part in cuts:
            ch = self._check(Claim(cut[:1].upper() + cut[1:], list(claim.markers)), sources, known, context)
            if ch.source_index is not None and (best is None or ch.score > best[0].score):
                best = (ch, part)
        if best is None:
            return []
        return [best[0], Check(Claim(best[1], []), None, 0.0, None, failed=failed)]

    def _head(self, claim: Claim, failed: tuple[Removal, str], sources: list[Scored], known: frozenset[str],
              context: dict[str, str], boundary: re.Pattern[str] = _BOUNDARY,
              accept: Callable[[Check], bool] = lambda ch: True) -> list[Check]:
        """A sentence whose tail names what no passage has ("Ushakov is a foreign policy adviser who was at the
        summit in Alaska"), or whose tail another sentence holds: its longest head before a clause boundary that
        passes (and that `accept`s), and the tail as removed; [] if none. The head is the model's own words, cut,
        not rewritten."""
        cuts = [m.start() for m in boundary.finditer(claim.text)]
        for cut in reversed(cuts):
            head = claim.text[:cut].rstrip(" ,;:") + "."
            if len(content_stems(head)) < 3:
                break
            if (words(head) or [""])[-1] in STOPWORDS:  # "Ushakov said that.": a fragment, not a claim
                continue
            ch = self._check(Claim(head, list(claim.markers)), sources, known, context)
            if ch.source_index is not None and accept(ch):
                tail = claim.text[cut:].strip(" ,;")
                return [ch, Check(Claim(tail[:1].upper() + tail[1:], []), None, 0.0, None, failed=failed)]
        return []

    def _contradicted(self, claim: str, sources: list[Scored], known: frozenset[str]) -> str:
        """Why a sentence of a given passage says the opposite of the claim ("" if none does; see polarity.py)."""
        if not self.entity_check:
            return ""
        for s in sources:
            why = contradiction(claim, [s.chunk.text[a:b] for a, b in sentence_spans(s.chunk.text)], known)
            if why:
                return f"{why} ({s.chunk.source})"
        return ""

    def _check(self, claim: Claim, sources: list[Scored], known: frozenset[str] = frozenset(),
               context: dict[str, str] | None = None) -> Check:
        """Best support among the cited passages; if they fail (small models mis-number), among all given."""
        valid = [m - 1 for m in claim.markers if 1 <= m <= len(sources)]
        best = self._best(claim, sources, valid, known, "the cited passage", context) if valid else None
        if best is None or best.source_index is None:
            cited_failure = best.failed if best is not None else None
            best = self._best(claim, sources, list(range(len(sources))), known, "the closest passage", context)
            if best.source_index is None and cited_failure is not None:
                best.failed = cited_failure  # the reason is about what the model cited
        return best

    def _best(self, claim: Claim, sources: list[Scored], candidates: list[int], known: frozenset[str] = frozenset(),
              where: str = "the cited passage", context: dict[str, str] | None = None) -> Check:
        """The candidate passage that supports the claim best, if above the threshold. `context` (chunk id ->
        text around the passage) also counts for names and numbers: in document mode the model read the
        neighbouring passages too, and a name introduced a paragraph earlier is still the one meant."""
        stems = set(content_stems(claim.text))
        best = Check(claim, None, 0.0, None)
        if not stems:
            return best
        ents = entity_rules.entities(claim.text, known) if self.entity_check else []
        closest: tuple[float, str, float] = (-1.0, "", 0.0)  # (support, why it failed gates, overlap): most alike
        sims = self._similarities(claim.text, [sources[i].chunk.text for i in candidates])
        for i, sim_per_sentence in zip(candidates, sims, strict=True):
            chunk = sources[i].chunk
            spans = sentence_spans(chunk.text)
            usable = [not is_instruction(chunk.text[s:e]) for s, e in spans]  # orders in a source never back a claim
            if not any(usable):
                continue
            text = " ".join(chunk.text[s:e] for (s, e), ok in zip(spans, usable, strict=True) if ok)
            have = set(content_stems(text))
            lexical = len(stems & have) / len(stems)
            own = stems - _META  # "The NYT article discusses" is not what the claim says; the title was read with it
            overlap = len(own & (have | set(content_stems(chunk.title)))) / len(own) if own else 1.0
            gate = self._gate(claim.text, ents, text, chunk.title + "\n" + (context or {}).get(chunk.id, ""), where)
            j = int(np.argmax([coverage(stems, chunk.text[s:e]) + sim if ok else -np.inf
                               for (s, e), sim, ok in zip(spans, sim_per_sentence, usable, strict=True)]))
            support = 0.6 * lexical + 0.4 * max(0.0, float(sim_per_sentence[j]))
            closest = max(closest, (support, gate, overlap))
            score = 0.0 if gate or overlap < self.min_overlap else support
            if score > best.score:
                best = Check(claim, i, score, spans[j])
        if best.score < self.threshold:
            support, gate, overlap = closest
            if gate:
                failed = (Removal.ENTITY if self.entity_check else Removal.SUPPORT), gate
            elif support >= self.threshold:
                failed = Removal.SUPPORT, f"{overlap:.0%} of its content words in {where} (at least {self.min_overlap:.0%})"
            else:
                failed = Removal.SUPPORT, f"support {max(support, 0.0):.2f} below {self.threshold:.2f} in {where}"
            return Check(claim, None, best.score, None, failed=failed)
        return best

    def _gate(self, claim: str, ents: list[entity_rules.Entity], text: str, title: str, where: str) -> str:
        """Why the passage cannot back the claim whatever its overlap ("" if it can): a name, number or date it lacks.

        The title counts: the model reads it with the passage ("The Wall Street Journal reports...").
        """
        if self.entity_check:
            return entity_rules.describe(entity_rules.missing(ents, entity_rules.haystack(text, title)), where)
        lacking = numbers(claim) - numbers(text)
        return f"numbers not in {where}: {', '.join(sorted(lacking))}" if lacking else ""

    def _similarities(self, claim: str, chunks: list[str]) -> list[np.ndarray]:
        per_chunk = [[chunk[s:e] for s, e in sentence_spans(chunk)] for chunk in chunks]
        if self.embedder is None:
            return [np.zeros(len(p)) for p in per_chunk]
        flat = [s for p in per_chunk for s in p]
        vecs = self.embedder.embed([claim, *flat])
        sims = vecs[1:] @ vecs[0]
        out, pos = [], 0
        for p in per_chunk:
            out.append(sims[pos : pos + len(p)])
            pos += len(p)
        return out



def _quote(ch: Check, sources: list[Scored]) -> str:
    """The source sentence a kept check rests on."""
    assert ch.source_index is not None and ch.quote_span is not None
    return sources[ch.source_index].chunk.text[ch.quote_span[0]:ch.quote_span[1]]


def _quoted_stems(ch: Check, sources: list[Scored]) -> set[str]:
    """The content stems of the source sentence a check rests on (with `_SHOWN_AROUND` sentences either side of it
    in its passage), and of its passage's title."""
    assert ch.source_index is not None and ch.quote_span is not None
    chunk = sources[ch.source_index].chunk
    a, b = ch.quote_span
    spans = sentence_spans(chunk.text)
    at = [i for i, (s, e) in enumerate(spans) if e > a and s < b] or [0]
    a = spans[max(0, at[0] - _SHOWN_AROUND)][0]
    b = spans[min(len(spans) - 1, at[-1] + _SHOWN_AROUND)][1]
    return set(content_stems(chunk.text[a:b] + "\n" + chunk.title))


def _with_marker(sentence: str, n: int) -> str:
    """Put the marker before the sentence's closing punctuation: "... in 2019 [1]."."""
    m = re.search(r"[.!?]+$", sentence)
    if m:
        return f"{sentence[: m.start()].rstrip()} [{n}]{sentence[m.start():]}"
    return f"{sentence} [{n}]"


def assemble(kept: list[Check], sources: list[Scored], removed: list[str]) -> Verified:
    """Renumber markers 1, 2, 3... by first use; one citation per cited passage, quote verbatim."""
    number: dict[int, int] = {}
    spans: dict[int, list[tuple[int, int]]] = {}
    parts: list[str] = []
    for ch in kept:
        assert ch.source_index is not None and ch.quote_span is not None
        n = number.setdefault(ch.source_index, len(number) + 1)
        spans.setdefault(ch.source_index, []).append(ch.quote_span)
        parts.append(_with_marker(ch.claim.text, n))
    citations = []
    for idx, n in sorted(number.items(), key=lambda kv: kv[1]):
        chunk = sources[idx].chunk
        s = min(a for a, _ in spans[idx])
        e = max(b for _, b in spans[idx])
        if e - s > 700:  # distant sentences: show the first one only
            s, e = spans[idx][0]
        citations.append(
            Citation(n, chunk.source, chunk.title, chunk.text[s:e], chunk.start + s, chunk.start + e, chunk.id)
        )
    return Verified(" ".join(parts), citations, removed)
