"""Every eval metric on hand-made cases, including the ones that must score 0."""

from __future__ import annotations

import pytest

from qa_bot.evaluation import metrics as M
from qa_bot.evaluation.matcher import must_include_ok
from qa_bot.evaluation.support import support, support_rate
from qa_bot.schema import Citation

DOC = "Intro line.\nThe first and only time Putin met Zelensky was in Paris in 2019. Ties then soured."
QUOTE = "The first and only time Putin met Zelensky was in Paris in 2019."
START = DOC.index(QUOTE)


END = START + len(QUOTE)


def cite(marker=1, quote=QUOTE, start=START, end=END, source="a.txt", chunk_id="c1"):
    return Citation(marker, source, "A", quote, start, end, chunk_id)


def files(c: Citation):
    return (DOC, 0) if c.source == "a.txt" else None


# --- exact match, F1, containment (SQuAD normalisation)

def test_exact_match_normalises_case_articles_punctuation_and_markers():
    assert M.exact_match("The Paris [1].", ["paris"]) == 1.0
    assert M.exact_match("Berlin", ["Paris", "the city of Paris"]) == 0.0
    assert M.exact_match("anything", []) == 0.0


def test_token_f1_values():
    # pred tokens: in paris in 2019 / gold: paris 2019 -> precision 2/4, recall 2/2
    assert M.token_f1("in Paris in 2019 [1]", ["Paris 2019"]) == pytest.approx(2 / 3)
    assert M.token_f1("Berlin 2021", ["Paris 2019"]) == 0.0
    assert M.token_f1("Paris", ["Berlin", "Paris"]) == 1.0  # best over the gold answers


def test_contains_gold_needs_whole_words():
    assert M.contains_gold("They met in Paris [1].", ["PARIS", "Rome"])
    assert not M.contains_gold("A Parisian cafe.", ["Paris"])
    assert not M.contains_gold("They met.", [])


def test_must_include_every_group_any_alternative():
    groups = [["Paris"], ["2019", "twenty nineteen"]]
    assert must_include_ok("They met in PARIS in 2019 [1].", groups)
    assert not must_include_ok("They met in Paris [1].", groups)  # the 2019 group is missing
    assert must_include_ok("anything", [])
    assert not must_include_ok("see [1]", [["1"]])  # a citation marker is not content


def test_abstention():
    assert M.abstention_ok(answerable=True, refused=False)
    assert M.abstention_ok(answerable=False, refused=True)
    assert not M.abstention_ok(answerable=False, refused=False)  # answered an unanswerable question
    assert not M.abstention_ok(answerable=True, refused=True)


# --- retrieval

RETRIEVED = [("b.txt", "Other text."), ("a.txt", "Putin met   Zelensky\nwas in Paris in 2019."), ("a.txt", "x")]


def test_retrieval_by_evidence_whitespace_normalised():
    r = M.retrieval_scores(RETRIEVED, [], ["Putin met Zelensky was in Paris"])
    assert r == {"hit": 1.0, "recall": 1.0, "rr": 0.5}


def test_retrieval_by_doc_and_recall_over_several_docs():
    assert M.retrieval_scores(RETRIEVED, ["a.txt"], []) == {"hit": 1.0, "recall": 1.0, "rr": 0.5}
    r = M.retrieval_scores(RETRIEVED, ["b.txt", "c.txt"], [])
    assert r == {"hit": 1.0, "recall": 0.5, "rr": 1.0}


def test_retrieval_no_hit_scores_zero_and_no_gold_is_none():
    assert M.retrieval_scores(RETRIEVED, ["z.txt"], []) == {"hit": 0.0, "recall": 0.0, "rr": 0.0}
    assert M.retrieval_scores([], [], ["Paris"]) == {"hit": 0.0, "recall": 0.0, "rr": 0.0}
    assert M.retrieval_scores(RETRIEVED, [], []) is None
    # evidence is the finer gold: the right document without the passage is no hit
    assert M.retrieval_scores(RETRIEVED, ["a.txt"], ["not there"])["hit"] == 0.0


# --- citation validity

def test_valid_citations():
    assert M.citation_problems("They met in Paris in 2019 [1].", False, [cite()], files) == []
    assert M.citation_problems("I cannot answer that from the sources.", True, [], files) == []


def test_fabricated_quote_is_invalid():
    bad = cite(quote="Putin met Zelensky in Berlin.", end=START + 29)
    probs = M.citation_problems("They met [1].", False, [bad], files)
    assert len(probs) == 1 and "not verbatim" in probs[0]


def test_quote_at_wrong_offsets_is_invalid():
    shifted = cite(start=START + 1, end=START + 1 + len(QUOTE))
    assert M.citation_problems("They met [1].", False, [shifted], files)
    outside = cite(start=len(DOC) - 3, end=len(DOC) + 10)
    assert "outside" in M.citation_problems("They met [1].", False, [outside], files)[0]


def test_marker_problems():
    assert "no citation" in " ".join(M.citation_problems("They met [1]. In 2019 [3].", False, [cite()], files))
    assert "not referenced" in " ".join(M.citation_problems("They met.", False, [cite()], files))
    two = [cite(1), cite(3)]
    assert "not 1..2" in " ".join(M.citation_problems("A [1]. B [3].", False, two, files))
    assert M.citation_problems("They met in Paris.", False, [], files) == ["an answer without citations"]
    assert M.citation_problems("I cannot answer [1].", True, [cite()], files) == ["a refusal carries citations"]


def test_unknown_source_and_chunk_offsets():
    assert "not found" in M.citation_problems("A [1].", False, [cite(source="gone.txt")], files)[0]
    chunk_text, base = DOC[5:], 5  # a source known only as a stored chunk starting at offset 5

    def from_chunk(c):
        return chunk_text, base

    assert M.citation_problems("A [1].", False, [cite()], from_chunk) == []


# --- independent support (qa_bot/evaluation/support.py: no CitationChecker)

def passage(c: Citation) -> str:
    return DOC


def test_support_all_none_and_partial():
    assert support_rate("The first and only time Putin met Zelensky was in Paris in 2019 [1].", [cite()], passage) == 1.0
    mixed = "Putin met Zelensky in Paris in 2019 [1]. Bananas grow quickly in Ecuador [1]."
    assert support_rate(mixed, [cite()], passage) == 0.5
    assert support_rate("Bananas grow quickly in Ecuador [1].", [cite()], passage) == 0.0


def test_support_sentence_without_marker_is_unsupported_and_refusal_is_none():
    text = "Putin met Zelensky in Paris in 2019. They met once [1]."
    assert support_rate(text, [cite()], passage) == 0.5
    assert support_rate("", [], passage) is None  # refusals are not scored (scoring skips them)
    assert support_rate("They met in Paris.", [], passage) == 0.0  # an answer citing nothing


def test_support_needs_every_number_and_name():
    assert support_rate("Putin met Zelensky in Paris in 2021 [1].", [cite()], passage) == 0.0
    assert support_rate("Merkel met Zelensky in Paris in 2019 [1].", [cite()], passage) == 0.0
    v = support("Putin met Angela Merkel in Paris [1].", [cite()], passage)
    assert not v[0].supported and "Merkel" in v[0].reason
    # a sentence-initial common word is not a name; possessives and number words normalise
    assert support_rate("Only once did Putin's path cross Zelensky's, in Paris in 2019 [1].", [cite()], passage) == 1.0


def test_support_marker_opening_a_sentence_closes_the_previous_one():
    assert support_rate("Putin met Zelensky in Paris in 2019. [1]", [cite()], passage) == 1.0


# --- aggregation

def row(answerable=True, refused=False, **kw):
    base = {"answerable": answerable, "refused": refused, "abstain_ok": answerable != refused, "passed": True}
    return {**base, **kw}


def test_aggregate_rates_latency_and_tokens():
    rows = [
        row(correct=True, hit=1.0, recall=1.0, rr=1.0, citations_valid=True, support=1.0, total_ms=100.0,
            tokens=20, gen_ms=1000.0),
        row(correct=False, hit=0.0, recall=0.0, rr=0.0, citations_valid=True, support=0.5, total_ms=300.0,
            tokens=20, gen_ms=1000.0, passed=False),
        row(answerable=False, refused=True, citations_valid=True, total_ms=200.0),
        row(answerable=False, refused=False, citations_valid=False, total_ms=400.0, passed=False),
    ]
    m = M.aggregate(rows)
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (4, 2, 2)
    assert m["correctness"] == 0.5 and m["mrr"] == 0.5 and m["hit_at_k"] == 0.5
    assert m["abstention_accuracy"] == 0.75
    assert m["answered_rate"] == 1.0 and m["refused_rate"] == 0.5
    assert m["citation_validity"] == 0.75 and m["independent_support"] == 0.75
    assert m["pass_rate"] == 0.5
    assert m["total_ms_p50"] == 250.0 and m["total_ms_p95"] == pytest.approx(385.0)
    assert m["tokens_per_s"] == 20.0
    assert m["first_token_ms_p50"] is None and m["judge_faithfulness"] is None


def test_aggregate_error_row_counts_as_neither_answered_nor_refused():
    m = M.aggregate([row(refused=None, abstain_ok=False, error="boom", passed=False), row(answerable=False, refused=None, abstain_ok=False, error="x", passed=False)])
    assert m["errors"] == 2 and m["answered_rate"] == 0.0 and m["refused_rate"] == 0.0
    assert m["abstention_accuracy"] == 0.0 and m["correctness"] is None
