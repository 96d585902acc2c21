"""Plain data types shared by every layer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Removal(StrEnum):
    """Which check removed an answer sentence (`Answer.removed_checks[i]["check"]`); a str, so JSON is unchanged."""

    SUPPORT = "support"
    ENTITY = "entity"
    ANCHOR = "anchor"
    TOPIC = "topic"
    QUOTE = "quote"
    SPEAKER = "speaker"
    CONTRADICTION = "contradiction"
    ANSWER_TYPE = "answer-type"
    PASTED = "pasted"


@dataclass(frozen=True)
class Document:
    """A loaded source file: its text exactly as citations will quote it."""

    doc_id: str
    path: str
    source: str  # display name, the file name
    title: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; text == document.text[start:end]."""

    id: str
    doc_id: str
    source: str
    title: str
    text: str
    start: int
    end: int
    position: int


@dataclass
class Scored:
    """A retrieved chunk with its fused score and the per-retriever scores."""

    chunk: Chunk
    score: float
    dense: float | None = None
    bm25: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


@dataclass
class Citation:
    marker: int
    source: str
    title: str
    quote: str
    start: int
    end: int
    chunk_id: str = ""


@dataclass
class Answer:
    """The answer object of INTERFACE.md (plus a few extra fields)."""

    question: str
    standalone_question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Scored] = field(default_factory=list)
    model: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    removed_sentences: list[str] = field(default_factory=list)
    # why each was removed: {"sentence", "check": a `Removal` value, "detail"}
    removed_checks: list[dict[str, str]] = field(default_factory=list)
    notice: str = ""
    fallback: str = ""  # "", "extractive" or "refusal": what replaced the model's answer
    raw_answer: str = ""  # the model's text before the citation check
    second_draft: str = ""  # its second answer, when every sentence of the first failed a check and it was told why
    candidates: list[Scored] = field(default_factory=list)  # every fused candidate (the "why" view)
    mode: str = "passages"  # what the model read: "documents" (every document whole), "document" (the best
    # one whole, then passages of the others) or "passages"

    def add_notice(self, text: str) -> None:
        self.notice = f"{self.notice}; {text}" if self.notice else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                {k: v for k, v in asdict(c).items() if k != "chunk_id"} for c in self.citations
            ],
            "retrieved": [
                {
                    "source": s.chunk.source,
                    "title": s.chunk.title,
                    "start": s.chunk.start,
                    "end": s.chunk.end,
                    "score": round(s.score, 6),
                    "dense": None if s.dense is None else round(s.dense, 6),
                    "bm25": None if s.bm25 is None else round(s.bm25, 6),
                    "chunk_id": s.chunk.id,
                }
                for s in self.retrieved
            ],
            "model": self.model,
            "mode": self.mode,
            "timings": {k: round(v, 1) for k, v in self.timings.items()},
            "removed_sentences": self.removed_sentences,
            "removed_checks": self.removed_checks,
            "notice": self.notice,
            "fallback": self.fallback,
            "raw_answer": self.raw_answer,
            "second_draft": self.second_draft,
        }
