"""Citation parsing, support checking, renumbering and the extractive backend (pure, fake embedder)."""

from __future__ import annotations

from qa_bot.answer.citations import CitationChecker, parse_claims, says_cannot_answer
from qa_bot.answer.extractive import extractive
from qa_bot.fakes import HashEmbedder
from qa_bot.schema import Chunk, Scored

DOC = (
    "The first and only time Putin met Zelensky was in Paris in 2019. "
    "The talks were brokered by France and Germany.\n"
    "Zelensky is based in Kyiv, the capital of Ukraine."
)


def _src(text: str, start: int, source: str = "a.txt", pos: int = 0) -> Scored:
    return Scored(Chunk(f"d:{pos}", "d", source, "Title", text, start, start + len(text), pos), 1.0)


def sources() -> list[Scored]:
    cut = DOC.index("Zelensky is based")
    return [_src(DOC[:cut].rstrip(), 0, pos=0), _src(DOC[cut:], cut, pos=1)]


def test_parse_claims_pulls_markers_and_merges_trailing_marker():
    claims = parse_claims("They met in Paris [1]. It was in 2019 [1, 2]. [2]")
    assert [c.text for c in claims] == ["They met in Paris.", "It was in 2019."]
    assert claims[0].markers == [1]
    assert claims[1].markers == [1, 2, 2]


def test_supported_claim_keeps_verbatim_quote_and_span():
    v = CitationChecker(HashEmbedder(), 0.5).verify("Putin and Zelensky met in Paris in 2019 [1].", sources())
    assert v.citations and not v.removed
    c = v.citations[0]
    assert c.marker == 1
    assert DOC[c.start : c.end] == c.quote
    assert "Paris in 2019" in c.quote
    assert v.answer == "Putin and Zelensky met in Paris in 2019 [1]."


def test_out_of_range_marker_is_dropped_and_unsupported_sentence_removed():
    v = CitationChecker(HashEmbedder(), 0.5).verify(
        "They met in Paris in 2019 [7]. The population of Kyiv is 2.9 million [2].", sources()
    )
    assert all(1 <= c.marker <= 2 for c in v.citations)
    assert "7]" not in v.answer
    assert any("2.9 million" in r for r in v.removed)  # a number the sources do not hold
    assert "2.9" not in v.answer


def test_markers_renumbered_by_first_use():
    v = CitationChecker(HashEmbedder(), 0.5).verify(
        "Zelensky is based in Kyiv [2]. Putin met Zelensky in Paris in 2019 [1].", sources()
    )
    assert [c.marker for c in v.citations] == [1, 2]
    assert v.answer.index("[1]") < v.answer.index("[2]")
    assert v.citations[0].source == "a.txt" and "Kyiv" in v.citations[0].quote


def test_sentence_with_no_support_anywhere_is_removed():
    v = CitationChecker(HashEmbedder(), 0.5).verify("Bananas grow on tall purple trees [1].", sources())
    assert not v.citations
    assert v.removed == ["Bananas grow on tall purple trees."]


def test_cannot_answer_detection():
    assert says_cannot_answer("I cannot answer that from the sources.")
    assert says_cannot_answer("The sources do not mention the population of Kyiv.")
    assert not says_cannot_answer("They met in Paris in 2019 [1].")


def test_extractive_cites_best_sentence_and_refuses_when_nothing_matches():
    v = extractive("Where did Putin and Zelensky meet?", sources(), HashEmbedder())
    assert v is not None and v.citations
    assert "Paris" in v.answer and "[1]" in v.answer
    for c in v.citations:
        assert DOC[c.start : c.end] == c.quote
    assert extractive("quantum chromodynamics lattice", sources(), HashEmbedder()) is None


def test_a_sentence_joining_two_documents_is_checked_clause_by_clause():
    """"The WSJ says X, while the NYT says Y": no one passage holds both publications, so the whole fails
    the entity check; each clause is then a claim of its own, cited to the document that holds it."""
    wsj = Scored(Chunk("w:0", "w", "wsj.txt", "Puppet (The Wall Street Journal)",
                       "Putin has called Zelensky an illegitimate puppet of the West.", 0, 61, 0), 1.0)
    nyt = Scored(Chunk("n:0", "n", "nyt.txt", "Disdain (The New York Times)",
                       "Russian state television calls Zelensky a clown.", 0, 48, 0), 1.0)
    answer = ("The Wall Street Journal says Putin has called Zelensky an illegitimate puppet, "
              "while The New York Times says Russian state television calls Zelensky a clown.")
    v = CitationChecker(HashEmbedder(), 0.5).verify(answer, [wsj, nyt])
    assert [c.source for c in v.citations] == ["wsj.txt", "nyt.txt"], v
    assert v.answer == ("The Wall Street Journal says Putin has called Zelensky an illegitimate puppet [1]. "
                        "The New York Times says Russian state television calls Zelensky a clown [2].")
    wrong = ("The Wall Street Journal says Putin met Zelensky in Washington, "
             "while The New York Times says Russian state television calls Zelensky a clown.")
    v = CitationChecker(HashEmbedder(), 0.5).verify(wrong, [wsj, nyt])
    assert [c.source for c in v.citations] == ["nyt.txt"] and "Washington" in " ".join(v.removed), v


def test_a_sentence_whose_passage_lacks_the_questions_rarest_words_is_removed():
    """A look-alike passage shares most words with the question but not its rarest ones: the claim goes
    (check "topic"); a passage holding one of them keeps the claim, however it is phrased."""
    yuan = Scored(Chunk("y:0", "y", "yuan.txt", "The Yuan dynasty",
                        "The chao was the paper money of the Yuan, printed from woodblocks.", 0, 66, 0), 1.0)
    v = CitationChecker(HashEmbedder(), 0.5).verify(
        "A popular type of show during the Yuan was the chao, the paper money of the Yuan [1].", [yuan],
        "What was a popular type of variety show during the Yuan?", topic=["varieti", "type"])
    assert not v.citations and v.removed_checks[0]["check"] == "topic", v
    theatre = Scored(Chunk("z:0", "z", "zaju.txt", "Yuan theatre",
                           "Zaju, a variety show of song and dance, was popular in the Yuan.", 0, 64, 0), 1.0)
    v = CitationChecker(HashEmbedder(), 0.5).verify(
        "Zaju variety shows were popular during the Yuan [1].", [theatre],
        "What was a popular type of variety show during the Yuan?", topic=["varieti", "type"])
    assert [c.source for c in v.citations] == ["zaju.txt"] and not v.removed, v


TRADE = ("Trade with poor countries lowers the wages of low-skilled workers in rich countries, while the "
         "wages of workers in poor countries rise as their exports grow.")


def _trade(claim: str):
    chunk = Chunk("t:0", "t", "trade.txt", "Income inequality (The Economist)", TRADE, 0, len(TRADE), 0)
    return CitationChecker(HashEmbedder(), 0.1).verify(claim + " [1]", [Scored(chunk, 1.0)])


def test_a_sentence_mostly_of_words_its_passage_lacks_is_removed_whatever_its_score():
    # a SQuAD look-alike answer: alike enough to pass the blended score, but the reasons are the model's own
    v = _trade("The increased wages in poor countries lead to higher demand for goods and services from rich "
               "countries, which in turn increases the demand for labor in poor countries.")
    assert v.citations == [] and v.removed_checks[0]["check"] == "support"
    assert "of its content words in the cited passage (at least 50%)" in v.removed_checks[0]["detail"]


def test_words_about_the_source_and_its_title_do_not_count_against_a_claim():
    assert _trade("The Economist article says the wages of workers in poor countries rise.").citations
