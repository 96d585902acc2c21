"""Answers -> what the web page shows: turn records (stored in SQLite) and their HTML. Pure functions."""

from __future__ import annotations

import re
import time
from html import escape

from qa_bot.schema import Answer, Removal, Scored
from qa_bot.server.sources import SourceLibrary, locate

_MARKERS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def turn_record(ans: Answer, library: SourceLibrary | None) -> dict:
    """Everything the page needs to redraw a turn later, even after its document is removed."""
    cited = {c.chunk_id for c in ans.citations}
    retrieved = {s.chunk.id for s in ans.retrieved}
    return {
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "question": ans.question,
        "standalone_question": ans.standalone_question,
        "answer": ans.answer,
        "refused": ans.refused,
        "notice": ans.notice,
        "fallback": ans.fallback,
        "model": ans.model,
        "mode": ans.mode,
        "timings": {k: round(v, 1) for k, v in ans.timings.items()},
        "removed_sentences": list(ans.removed_sentences),
        "removed_checks": [dict(r) for r in ans.removed_checks],
        "raw_answer": ans.raw_answer,
        "second_draft": ans.second_draft,
        "citations": [_citation(c, library) for c in ans.citations],
        "retrieved": [_scored(s, cited, retrieved, full=True) for s in ans.retrieved],
        "candidates": [_scored(s, cited, retrieved) for s in (ans.candidates or ans.retrieved)],
    }


def _citation(c, library: SourceLibrary | None) -> dict:
    rec = {"marker": c.marker, "source": c.source, "title": c.title, "quote": c.quote, "start": c.start,
           "end": c.end, "chunk_id": c.chunk_id, "line": None, "paragraph": None, "before": "", "after": ""}
    doc_id = c.chunk_id.split(":")[0] if c.chunk_id else ""
    text = library.text(doc_id) if library and doc_id else None
    if text is not None and text[c.start : c.end] == c.quote:
        loc = locate(text, c.start, c.end)
        rec.update(line=loc.line, paragraph=loc.paragraph,
                   before=("…" if loc.cut_before else "") + text[loc.context_start : c.start],
                   after=text[c.end : loc.context_end] + ("…" if loc.cut_after else ""))
    return rec


def _scored(s: Scored, cited: set[str], retrieved: set[str], full: bool = False) -> dict:
    text = s.chunk.text if full else s.chunk.text[:220] + ("…" if len(s.chunk.text) > 220 else "")
    return {"chunk_id": s.chunk.id, "source": s.chunk.source, "title": s.chunk.title, "start": s.chunk.start,
            "end": s.chunk.end, "score": s.score, "dense": s.dense, "bm25": s.bm25, "dense_rank": s.dense_rank,
            "bm25_rank": s.bm25_rank, "cited": s.chunk.id in cited, "retrieved": s.chunk.id in retrieved, "text": text}


def cite_link(turn: int, n: int) -> str:
    return f'<a class="qa-cite" href="#qa-src-t{turn}-{n}" data-turn="{turn}" data-marker="{n}">[{n}]</a>'


def answer_html(rec: dict, turn: int) -> str:
    """The assistant message: the checked answer with clickable markers, or a styled refusal."""
    if rec["refused"]:
        body = (f'<div class="qa-refusal"><strong>No answer in the documents.</strong> '
                f'{escape(rec["answer"])}</div>')
    else:
        text = escape(rec["answer"])
        body = _MARKERS.sub(lambda m: "".join(cite_link(turn, int(n)) for n in re.split(r"\s*,\s*", m.group(1))), text)
    notes = []
    if rec.get("notice"):
        notes.append(escape(rec["notice"]))
    if rec.get("fallback") == "extractive" and not rec["refused"]:
        notes.append("quoted from the sources (no generated answer)")
    if notes:
        body += f'<div class="qa-notice">{"; ".join(notes)}</div>'
    return body


def chat_messages(turns: list[dict], pending: str | None = None, partial: str = "") -> list[dict]:
    """The Chatbot's messages for a conversation, plus an answer being written."""
    msgs: list[dict] = []
    for i, rec in enumerate(turns, 1):
        msgs.append({"role": "user", "content": escape(rec["question"])})
        msgs.append({"role": "assistant", "content": answer_html(rec, i)})
    if pending is not None:
        msgs.append({"role": "user", "content": escape(pending)})
        msgs.append({"role": "assistant", "content": escape(partial) + '<span class="qa-cursor">▍</span>'})
    return msgs


def _location(c: dict) -> str:
    if c.get("line") is None:
        return "location unknown (document changed since)"
    return f"paragraph {c['paragraph']}, line {c['line']}"


def sources_html(turns: list[dict]) -> str:
    """The sources panel: the latest answer's citations open, earlier answers folded away."""
    if not turns:
        return ('<div class="qa-empty">Sources appear here. Every claim in an answer carries a '
                'marker like <span class="qa-cite-sample">[1]</span>; click it to see the passage it comes from, '
                'highlighted in its document.</div>')
    parts = ['<div class="qa-sources">']
    for t in range(len(turns), 0, -1):
        rec = turns[t - 1]
        current = t == len(turns)
        cls = "qa-turn qa-sources-current" if current else "qa-turn"
        parts.append(f'<details class="{cls}" id="qa-turn-{t}" {"open" if current else ""}>'
                     f'<summary>Answer {t}: {escape(_short(rec["question"], 70))}</summary>')
        if not rec["citations"]:
            msg = "No sources: the documents do not answer this." if rec["refused"] else "No citations."
            parts.append(f'<p class="qa-nosrc">{msg}</p>')
        for c in rec["citations"]:
            parts.append(_source_entry(t, c, open_=current))
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def _source_entry(turn: int, c: dict, open_: bool) -> str:
    n = c["marker"]
    quote = (f'<mark class="qa-quote qa-quote-{n}" id="qa-quote-t{turn}-{n}">{escape(c["quote"])}</mark>')
    return (
        f'<details class="qa-source" id="qa-src-t{turn}-{n}" data-source="{escape(c["source"])}" '
        f'data-marker="{n}" {"open" if open_ else ""}>'
        f'<summary><span class="qa-badge">[{n}]</span> <span class="qa-title">{escape(c["title"])}</span>'
        f'<span class="qa-loc">{escape(c["source"])} · {_location(c)}</span></summary>'
        f'<div class="qa-context">{escape(c["before"])}{quote}{escape(c["after"])}</div></details>'
    )


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def why_html(turns: list[dict]) -> str:
    """The latest answer explained: standalone question, fused candidates, removed sentences."""
    if not turns:
        return '<p class="qa-empty">Ask a question to see how its answer was found.</p>'
    rec = turns[-1]
    rows = "".join(
        f'<tr class="{"qa-cited" if s["cited"] else ""}"><td>{i}</td><td>{"✔ cited" if s["cited"] else ("given" if s["retrieved"] else "")}</td>'
        f'<td>{escape(s["source"])}<br><small>{s["start"]}–{s["end"]}</small></td>'
        f'<td>{_num(s["dense"])}</td><td>{_num(s["bm25"])}</td><td>{_num(s["score"], 4)}</td>'
        f'<td class="qa-preview">{escape(s["text"])}</td></tr>'
        for i, s in enumerate(rec["candidates"], 1)
    )
    removals = _removals(rec)
    removed = "".join(_removed_item(r) for r in removals) or "<li><em>none</em></li>"
    refusal = (f'<p><b>Refused before answering</b>: {escape(rec["notice"])}</p>'
               if rec.get("fallback") == "refusal" and rec.get("notice") else "")
    t = rec["timings"]
    return (
        f'<div class="qa-why"><p><b>Question as searched</b> (follow-ups are rewritten to stand alone): '
        f'{escape(rec["standalone_question"])}</p>'
        f'<p><b>Model</b>: {escape(rec["model"])} · read {_MODES.get(rec.get("mode", ""), "passages")} · retrieval {t.get("retrieval_ms", 0):.0f} ms · '
        f'first token {t.get("first_token_ms", 0):.0f} ms · total {t.get("total_ms", 0):.0f} ms</p>'
        f'{refusal}<p><b>Sentences removed by the citation check</b>:</p><ul>{removed}</ul>{_legend(removals)}'
        f'<p><b>Candidates</b> (dense = cosine similarity, BM25 = keyword score, fused = reciprocal rank fusion):</p>'
        f'<table class="qa-table"><tr><th>#</th><th></th><th>source</th><th>dense</th><th>BM25</th><th>fused</th>'
        f'<th>passage</th></tr>{rows}</table></div>'
    )


_MODES = {"documents": "whole documents (cited passages checked by code)",
          "document": "one document whole + passages from others (checked by code)", "passages": "retrieved passages"}


def _removals(rec: dict) -> list[dict]:
    """Removed sentences with their check; turns stored before checks were recorded have the sentence only."""
    return rec.get("removed_checks") or [{"sentence": r, "check": "", "detail": ""} for r in rec["removed_sentences"]]


# what each check removes, shown under the removed sentences for the checks that removed one
_CHECKS: dict[Removal, str] = {
    Removal.SUPPORT: "too little overlap with the cited passage",
    Removal.ENTITY: "a name, number or date the cited passage lacks",
    Removal.ANCHOR: "it does not mention what the question is about",
    Removal.TOPIC: "it has none of the question's rarest words",
    Removal.QUOTE: "the quoted sentence does not show what it adds to the question",
    Removal.SPEAKER: "the quoted sentence gives the words to someone else",
    Removal.CONTRADICTION: "a source sentence says the opposite",
    Removal.ANSWER_TYPE: "the question asks when (or in which month), how many, what share, who or where, and the "
                         "answer gives none it does not already hold; or it asks what did not happen, and the answer "
                         "has no negation",
    Removal.PASTED: "longer than the one or two sentences asked for, the answer copies two or more of them from the "
                    "sources word for word",
}


def _legend(removals: list[dict]) -> str:
    used = [c for c in _CHECKS if any(r.get("check") == c for r in removals)]
    if not used:
        return ""
    items = "".join(f"<dt>{escape(c)}</dt><dd>{escape(_CHECKS[c])}</dd>" for c in used)
    return f'<dl class="qa-legend">{items}</dl>'


def _removed_item(r: dict) -> str:
    why = f' <small class="qa-check">{escape(r["check"])}: {escape(r["detail"])}</small>' if r.get("check") else ""
    return f"<li>{escape(r['sentence'])}{why}</li>"


def debug_html(turns: list[dict]) -> str:
    """The passages the model was given for the latest answer, in full, with their scores."""
    if not turns:
        return '<p class="qa-empty">No retrieval yet.</p>'
    rec = turns[-1]
    items = "".join(
        f'<div class="qa-chunk"><div class="qa-chunk-head">#{i} {escape(s["source"])} {s["start"]}–{s["end"]} · '
        f'dense {_num(s["dense"])} · BM25 {_num(s["bm25"])} · fused {_num(s["score"], 4)}'
        f'{" · cited" if s["cited"] else ""}</div><div class="qa-chunk-text">{escape(s["text"])}</div></div>'
        for i, s in enumerate(rec["retrieved"], 1)
    )
    return items or '<p class="qa-empty">Nothing relevant was retrieved.</p>'


def document_html(title: str, source: str, text: str) -> str:
    return (f'<div class="qa-doc"><h3>{escape(title)}</h3><p class="qa-loc">{escape(source)}</p>'
            f'<pre class="qa-doc-text">{escape(text)}</pre></div>')
