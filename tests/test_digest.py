"""Summary and comparison questions answered with the documents' own sentences (digest.py), fakes only."""

from __future__ import annotations

import pytest

from qa_bot.answer.digest import digest, is_wide, request
from qa_bot.factory import build_bot
from qa_bot.fakes import HashEmbedder, ScriptedLLM
from qa_bot.schema import Chunk, Scored

from .conftest import NYT, WSJ


@pytest.mark.parametrize("question", [
    "Summarise the WSJ article.", "What is the New York Times article about?", "Give me a short summary of the NYT piece",
    "What are the key takeaways from the WSJ piece?", "Compare how the two articles describe Trump's role.",
    "What do both articles say about Russian state TV?", "How do the two articles differ on a meeting?",
])
def test_requests_to_summarise_or_compare_are_wide(question):
    assert is_wide(question)


@pytest.mark.parametrize("question", [
    "Who did Yuri Ushakov leave out when he summarized the phone call?",  # someone summarised: a fact
    "How did Lavrov say contacts should be prepared, according to both articles?",  # a fact in two places
    "Who called Zelensky a clown?",
])
def test_questions_for_one_fact_are_not_wide(question):
    assert not is_wide(question)


def doc(doc_id: str, title: str, text: str) -> Chunk:
    return Chunk(f"{doc_id}:doc", doc_id, f"{doc_id}.txt", title, text, 0, len(text), -1)


NY = doc("ny", "Putin's disdain for his counterpart (The New York Times)", "Putin never says the name Zelensky. Russian "
         "state television calls Zelensky a clown. Golosov sees no prospect of a meeting soon.")
WS = doc("ws", "Putin Calls Zelensky a Puppet (The Wall Street Journal)", "Trump's call for a meeting puts Putin in a bind.")


def named(question: str, whole: bool = False) -> list[Chunk]:
    return request(question, [NY, WS], whole).documents


def test_a_document_is_named_by_a_title_term_no_other_document_holds():
    assert named("Summarise the WSJ article.") == [WS]
    assert named("What is the New York Times article about?") == [NY]
    # "Zelensky" is in one title but in the other document's text: it names neither
    assert named("Summarise what the articles say about Zelensky.") == []
    assert named("Summarise what the articles say about Zelensky.", whole=True) == [NY, WS]
    assert named("What do both articles say? Especially the WSJ.", whole=True) == [NY, WS]
    # a corpus too large to read whole: only the documents named
    assert named("Summarise the WSJ article.", whole=False) == [WS]
    assert request("Summarise the WSJ article.", [NY, WS], True).about == ""
    assert request("Give me a short summary of what the NYT article says about state TV", [NY, WS], True).about == "state tv"


def ask_digest(question: str, units: list[Scored], documents):
    return digest(units, request(question, documents, whole=True), HashEmbedder())


@pytest.fixture
def seeds_docs(docs_settings):
    """(settings, the seeds whole, their indexed passages) in document mode."""
    s = docs_settings
    bot = build_bot(s, llm=None)
    plan = bot.plan()
    units, _ = bot.document_units(plan)
    return s, plan.documents, units


def _quotes_are_slices(v, units: list[Scored], documents) -> None:
    texts = {d.source: d.text for d in documents}
    for c in v.citations:
        assert texts[c.source][c.start : c.end] == c.quote


def test_a_plain_summary_opens_with_the_documents_lede_quoted(seeds_docs):
    _, documents, units = seeds_docs
    v = ask_digest("Summarise the WSJ article.", units, documents)
    assert v is not None and {c.source for c in v.citations} == {WSJ}
    assert "excoriating as an illegitimate leader and puppet" in v.answer  # the lede's first full sentence
    assert "@" not in v.answer  # "Write to ... at name@wsj.com" is a contact line
    assert v.answer.count("[") >= 4 and len(v.citations) >= 2
    _quotes_are_slices(v, units, documents)


def test_a_photo_caption_is_not_taken_for_the_lede(seeds_docs):
    _, documents, units = seeds_docs
    v = ask_digest("Summarise the WSJ article.", units, documents)
    assert v is not None
    assert "right, met with" not in v.answer  # "Putin, right, met with ... Zelensky, left, ...": the photo's caption
    assert "puts Putin in a bind" in v.answer  # the lede's third sentence moves up in its place


def test_a_summary_about_something_quotes_the_sentences_about_it_from_each_document(seeds_docs):
    _, documents, units = seeds_docs
    v = ask_digest("Give me a short summary of what the NYT article says about Russian state TV and propaganda.",
                   units, documents)
    assert v is not None and {c.source for c in v.citations} == {NYT}
    assert "clown" in v.answer and "television" in v.answer
    both = ask_digest("How do the two articles describe the political risks for Putin of meeting Zelensky?",
                      units, documents)
    assert both is not None and {c.source for c in both.citations} == {NYT, WSJ}
    assert not any(s.split()[0] in ("He", "She", "They") for s in both.answer.split("] ")[1:])  # says who
    _quotes_are_slices(both, units, documents)


def test_nothing_about_the_question_means_no_digest(seeds_docs):
    _, documents, units = seeds_docs
    assert ask_digest("Summarise what the WSJ article says about quantum chromodynamics lattices.", units,
                      documents) is None


def test_the_bot_answers_a_summary_without_the_model_and_a_fact_with_it(seeds_docs):
    s, _, _ = seeds_docs
    llm = ScriptedLLM(["Russian state television calls him a clown [1]."])
    bot = build_bot(s, llm=llm)
    ans = bot.ask("Summarise the NYT article.")
    assert llm.calls == [] and ans.mode == "documents" and not ans.refused and ans.fallback == "extractive"
    assert {c.source for c in ans.citations} == {NYT} and ans.to_dict()["fallback"] == "extractive"
    fact = bot.ask("Who called Zelensky a clown?")
    assert len(llm.calls) == 1 and fact.fallback == "" and "clown" in fact.answer


def test_a_summary_needs_no_prefix_read_ahead_nor_a_model(seeds_docs):
    s, _, _ = seeds_docs

    class Unread(ScriptedLLM):
        def prefix_ready(self, messages: list[dict]) -> bool:
            return False  # serve has not finished reading the documents ahead

    unread = build_bot(s, llm=Unread())
    assert unread.plan().pending
    for bot in (unread, build_bot(s, llm=None)):
        ans = bot.ask("Summarise the WSJ article.")
        assert ans.mode == "documents" and ans.fallback == "extractive" and not ans.refused
        assert {c.source for c in ans.citations} == {WSJ} and len(ans.citations) >= 2
    assert unread.llm.calls == []  # type: ignore[union-attr]


def test_in_a_corpus_too_large_to_read_whole_only_a_named_document_is_summarised(seeds_docs):
    s, _, _ = seeds_docs
    llm = ScriptedLLM(["Putin has questioned his authority to sign any peace agreement [1]."])
    bot = build_bot(s.model_copy(update={"context_tokens": 1000}), llm=llm)  # the two articles do not fit
    ans = bot.ask("Summarise the WSJ article.")
    assert llm.calls == [] and ans.fallback == "extractive" and ans.mode == "document"
    assert {c.source for c in ans.citations} == {WSJ}
    other = bot.ask("Summarise the articles.")  # names no document: the model answers, from passages
    assert len(llm.calls) == 1 and other.fallback == "" and other.mode == "passages"


def test_a_summary_of_something_no_document_names_is_refused_as_any_question(seeds_docs):
    s, _, _ = seeds_docs
    llm = ScriptedLLM(["The Bloomberg article says Putin will meet Zelensky [1]."])
    ans = build_bot(s, llm=llm).ask("Summarise the Bloomberg article.")
    assert ans.refused and ans.fallback == "refusal" and "Bloomberg" in ans.notice and llm.calls == []


def test_quote_summaries_off_leaves_a_summary_to_the_model(seeds_docs):
    s, _, _ = seeds_docs
    llm = ScriptedLLM(["Russian state television calls him a clown [1]."])
    ans = build_bot(s.model_copy(update={"quote_summaries": False}), llm=llm).ask("Summarise the NYT article.")
    assert len(llm.calls) == 1 and ans.fallback == "" and "clown" in ans.answer
