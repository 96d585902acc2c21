"""Chunk spans: every chunk is an exact slice of its document, in order, covering all of it."""

from __future__ import annotations

import random

import pytest

from qa_bot.ingest.chunking import chunk_document, make_splitter, sentences
from qa_bot.ingest.loaders import load_file
from qa_bot.schema import Document
from qa_bot.text import sentence_spans

from .conftest import NYT, SEEDS, WSJ

ALL = [".txt", ".md"]


def _doc(text: str, doc_id: str = "d0") -> Document:
    return Document(doc_id=doc_id, path=f"/x/{doc_id}.txt", source=f"{doc_id}.txt", title="T", text=text, sha256="h")


def _check_spans(doc: Document, chunks) -> None:
    """The invariants citations rely on."""
    assert chunks, "a non-empty document gives at least one chunk"
    for n, c in enumerate(chunks):
        assert c.text == doc.text[c.start : c.end]
        assert c.text == c.text.strip() and c.text
        assert c.position == n and c.id == f"{doc.doc_id}:{n:05d}" and c.doc_id == doc.doc_id
    starts = [c.start for c in chunks]
    # in document order (llama-index may emit a piece that extends the previous one from the same start)
    assert starts == sorted(starts), "chunks come in document order"
    for a, b in zip(chunks, chunks[1:], strict=False):
        # neighbours touch or overlap: nothing but whitespace between them
        assert b.start <= a.end or not doc.text[a.end : b.start].strip()
    covered = bytearray(len(doc.text))
    for c in chunks:
        covered[c.start : c.end] = b"\1" * (c.end - c.start)
    missing = [i for i, ch in enumerate(doc.text) if not ch.isspace() and not covered[i]]
    assert not missing, f"text not in any chunk: {doc.text[missing[0]:missing[0] + 40]!r}"


@pytest.mark.parametrize("name", [NYT, WSJ])
def test_seed_chunks_are_exact_slices_covering_the_document(name):
    doc = load_file(SEEDS / name, max_bytes=10**7, allowed=ALL)
    chunks = chunk_document(doc, make_splitter(160, 30))
    _check_spans(doc, chunks)
    assert len(chunks) > 5


def test_ids_are_stable_across_runs_and_splitters():
    doc = load_file(SEEDS / WSJ, max_bytes=10**7, allowed=ALL)
    again = load_file(SEEDS / WSJ, max_bytes=10**7, allowed=ALL)
    a = chunk_document(doc, make_splitter(160, 30))
    b = chunk_document(again, make_splitter(160, 30))
    assert doc.doc_id == again.doc_id
    assert [(c.id, c.start, c.end) for c in a] == [(c.id, c.start, c.end) for c in b]


def test_chunk_size_and_overlap_are_respected():
    doc = load_file(SEEDS / NYT, max_bytes=10**7, allowed=ALL)
    small = chunk_document(doc, make_splitter(64, 0))
    large = chunk_document(doc, make_splitter(400, 0))
    overlapping = chunk_document(doc, make_splitter(64, 30))
    _check_spans(doc, small)
    _check_spans(doc, large)
    _check_spans(doc, overlapping)
    assert len(small) > 2 * len(large)
    # roughly 4 characters a token: a 64-token chunk stays well under 64*8 characters
    assert max(len(c.text) for c in small) < 64 * 8
    assert max(len(c.text) for c in large) > 64 * 8
    # no overlap setting: neighbours do not share text; with overlap, those whose last sentences fit in the
    # overlap share them, whole: a chunk starts where a sentence starts
    assert all(b.start >= a.end for a, b in zip(small, small[1:], strict=False))
    shared = [b for a, b in zip(overlapping, overlapping[1:], strict=False) if b.start < a.end]
    assert len(shared) >= 5
    starts = {s for s, _ in sentence_spans(doc.text)}
    assert all(c.start in starts for c in overlapping)


def test_odd_whitespace_maps_exactly():
    text = (
        "\t  Heading\twith\ttabs\r\n\r\n\r\n"
        "First   sentence with   runs of spaces.\u00a0Second\n\n\n\n\nsentence\tafter blank lines.  \r\n"
        "\t\tIndented line\r\nwith CRLF endings.\n\n\n"
    ) * 25
    doc = _doc(text)
    for size, overlap in [(160, 30), (40, 10), (32, 0)]:
        _check_spans(doc, chunk_document(doc, make_splitter(size, overlap)))


def test_repetitive_text_still_covers_the_whole_document():
    """Boilerplate repeated many times: each piece must be placed where it really is, not at an earlier copy."""
    doc = _doc("Terms apply. See the notice below for details.\n\n" * 200)
    chunks = chunk_document(doc, make_splitter(64, 16))
    _check_spans(doc, chunks)
    assert chunks[-1].end == len(doc.text.rstrip())


def test_random_documents_keep_the_span_invariants():
    rng = random.Random(7)
    words = ["alpha", "beta", "Gamma.", "delta,", "эпсилон", "数据库很好。", "🙂", "x" * 250, "Mr.", "U.S.",
             "end.", "\t", "\n", "\n\n\n", "\r\n", "  ", "\u00a0"]
    for i in range(40):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 600)))
        if i % 3 == 0:
            text = (text[:150] + " ") * rng.randint(2, 8)
        if not text.strip():
            continue
        doc = _doc(text, f"r{i}")
        _check_spans(doc, chunk_document(doc, make_splitter(rng.choice([40, 96, 160]), rng.choice([0, 10, 30]))))


@pytest.mark.parametrize("name", [NYT, WSJ])
def test_chunks_end_where_sentences_end_not_at_an_abbreviation(name):
    """llama-index's default sentence tokenizer (Punkt, no abbreviations) ended 8 of the NYT seed's 15 chunks at
    "Mr.", so a quote could read "..., said Mr.": every chunk now ends a sentence."""
    doc = load_file(SEEDS / name, max_bytes=10**7, allowed=ALL)
    chunks = chunk_document(doc, make_splitter(160, 30))
    _check_spans(doc, chunks)
    for c in chunks:
        assert not c.text.endswith(("Mr.", "Mrs.", "Ms.", "Dr.", "St.")), c.text[-60:]
        assert c.text[-1] in ".”\"?!’'" or c.end == len(doc.text.rstrip()), c.text[-60:]


def test_sentences_rejoin_to_the_text():
    text = "  Mr. Putin met Mr. Zelensky in Paris.\nThen talks stalled.  “We are ready,” he said. St. Petersburg"
    pieces = sentences(text)
    assert "".join(pieces) == text
    assert [p.strip() for p in pieces] == ["Mr. Putin met Mr. Zelensky in Paris.", "Then talks stalled.",
                                           "“We are ready,” he said.", "St. Petersburg"]
    assert sentences("") == []


WRAPPED = ("The first and only time Russian President Vladimir Putin met with Ukrainian President Volodymyr\n"
           "Zelensky was in Paris in 2019, at a very different moment in relations between the two countries. At\n"
           "the time, Putin had high hopes for his newly elected counterpart,\n"
           "who had campaigned on peace.\n")


def test_a_hard_wrapped_line_does_not_end_a_sentence():
    """PDF text and text files wrapped at a fixed width break lines mid-sentence: a quote read "At"."""
    assert [WRAPPED[s:e] for s, e in sentence_spans(WRAPPED)] == [
        WRAPPED[: WRAPPED.index(" At") + 1].rstrip(), WRAPPED[WRAPPED.index("At\n") :].rstrip()]


def test_short_lines_headings_and_lists_still_end_where_they_end():
    text = "# Heading\nSome text here.\n- item one\n- item two\nHeadline Without A Stop\nBody starts here.\nDone:\nyes"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "# Heading", "Some text here.", "- item one", "- item two", "Headline Without A Stop", "Body starts here.",
        "Done:", "yes"]
    long = ["## A long markdown heading about the talks between the Kremlin and Kyiv this week",
            "- Ukraine's disarmament and political neutrality under the terms handed over in Istanbul",
            "- abandoning its aspiration to join the North Atlantic Treaty Organization, for good",
            "| Fruit | Price | Origin of the fruit in the table, with a long description cell |"]
    text = "\n".join(long + ["Body text."])
    assert [text[s:e] for s, e in sentence_spans(text)] == [*long, "Body text."]


def test_a_paragraph_break_inside_a_sentence_does_not_end_it():
    """The WSJ seed breaks a paragraph after "the Carnegie Russia": the next one opens "Eurasia Center." and the quote
    that follows lost its speaker. A caption's credit line, a short heading and a finished paragraph still end."""
    said = ('"Ukraine is a battlefield between Russia and the West," said Tatiana Stanovaya, a senior fellow at the '
            "Carnegie Russia")
    text = (f"{said}\n\nEurasia Center. \u201cIn Putin\u2019s eyes, Zelensky is not a player,\u201d she added.\n\n"
            "A long photo caption about the summit in Alaska. Photo: Presidential Press Service\n\n"
            "\"They haven't been exactly best friends,\" he said.\n\nShort Heading\n\nIt rained.\n\n"
            "An unfinished paragraph that is long enough to be a wrapped line of prose text\n\nand it goes on here.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        f"{said}\n\nEurasia Center.", "\u201cIn Putin\u2019s eyes, Zelensky is not a player,\u201d she added.",
        "A long photo caption about the summit in Alaska.", "Photo: Presidential Press Service",
        "\"They haven't been exactly best friends,\" he said.", "Short Heading", "It rained.",
        "An unfinished paragraph that is long enough to be a wrapped line of prose text\n\nand it goes on here."]
    seed = (SEEDS / WSJ).read_text(encoding="utf-8")
    quote = seed.index("\u201cIn Putin\u2019s eyes")
    before = [seed[s:e] for s, e in sentence_spans(seed) if e <= quote][-1]
    assert "Stanovaya" in before and before.endswith("Eurasia Center.")


def test_a_sentence_runs_on_across_a_pdf_page(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for page in ["Putin appeared to have high hopes for a relationship with his newly elected counterpart, who had "
                 "campaigned on making peace with Russia a main priority of", "his presidency. A second sentence."]:
        pdf.add_page()
        pdf.multi_cell(0, 8, page)
    pdf.output(str(tmp_path / "two pages.pdf"))
    doc = load_file(tmp_path / "two pages.pdf", max_bytes=10**7, allowed=[".pdf"])
    said = [" ".join(doc.text[s:e].split()) for s, e in sentence_spans(doc.text)]
    assert said == ["Putin appeared to have high hopes for a relationship with his newly elected counterpart, who had "
                    "campaigned on making peace with Russia a main priority of his presidency.", "A second sentence."]
