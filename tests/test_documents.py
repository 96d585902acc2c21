"""Whole-document mode: the planner, the prompt, per-passage checking of document citations (fakes)."""

from __future__ import annotations

import pytest

from qa_bot.answer.planner import DocumentLibrary, plan
from qa_bot.factory import build_bot, build_ingestor
from qa_bot.fakes import ScriptedLLM
from qa_bot.settings import Settings

from .conftest import NYT, WSJ

Q = "Who called Zelensky a clown?"


def library(s: Settings) -> DocumentLibrary:
    return DocumentLibrary(s.index_dir, s.max_file_mb, s.allowed_extensions)


def test_planner_reads_documents_when_the_corpus_fits(docs_settings):
    p = plan(library(docs_settings), 6000)
    assert p.mode == "documents" and [d.source for d in p.documents] == [NYT, WSJ]
    doc = p.documents[0]
    assert doc.text == (docs_settings.index_dir.parent / "seeds" / NYT).read_text(encoding="utf-8")
    assert plan(library(docs_settings), 1000).mode == "passages"  # two articles are about 4,400 tokens
    assert plan(library(docs_settings), 0).mode == "passages"
    assert plan(None, 6000).mode == "passages"


def test_a_file_changed_since_ingest_means_passages(docs_settings):
    lib = library(docs_settings)
    assert plan(lib, 6000).mode == "documents"
    (docs_settings.index_dir.parent / "seeds" / WSJ).write_text("Something else entirely.", encoding="utf-8")
    lib2 = library(docs_settings)  # a fresh library reads the files again
    assert plan(lib2, 6000).mode == "passages"


def test_the_prompt_holds_every_document_whole_before_the_question(docs_settings):
    llm = ScriptedLLM(["Russian state television calls him a clown [1]."])
    bot = build_bot(docs_settings, llm=llm)
    ans = bot.ask(Q)
    prompt = llm.calls[-1][1]["content"]
    for name in (NYT, WSJ):
        text = (docs_settings.index_dir.parent / "seeds" / name).read_text(encoding="utf-8")
        assert text.strip()[:2000] in prompt
    assert prompt.rstrip().endswith(f"Question: {Q}")
    assert "documents" in llm.calls[-1][0]["content"]
    # the same prefix for every question: only the question differs
    empty = bot.messages("", bot.retriever.retrieve(Q), bot.plan())
    assert prompt.startswith(empty[1]["content"].rstrip()[:-len("Question:")])
    assert ans.mode == "documents" and not ans.refused
    c = ans.citations[0]
    assert c.source == NYT and "clown" in c.quote and c.chunk_id.startswith(c.chunk_id.split(":")[0])
    text = (docs_settings.index_dir.parent / "seeds" / NYT).read_text(encoding="utf-8")
    assert text[c.start : c.end] == c.quote  # a verbatim slice of the document, span included
    assert ans.to_dict()["mode"] == "documents"


def test_uncited_sentences_are_attributed_by_code_and_wrong_ones_removed(docs_settings):
    reply = ("Russian state television calls Zelensky a clown. "
             "Angela Merkel said that Zelensky had acted like a schoolboy [1]. "
             "The capital of Kazakhstan is Astana [2]. "
             "Putin and Zelensky met in Paris in 2019 [1].")
    bot = build_bot(docs_settings, llm=ScriptedLLM([reply]))
    ans = bot.ask("What do the articles say about Zelensky?")
    assert "clown" in ans.answer and "Paris" in ans.answer
    assert "Merkel" not in ans.answer and "Astana" not in ans.answer
    assert {c.source for c in ans.citations} == {NYT, WSJ}  # "met in Paris" is the WSJ's, whatever [1] said
    checks = {r["sentence"].split()[0]: r["check"] for r in ans.removed_checks}
    assert checks.get("Angela") == "entity" and checks.get("The") == "entity"


def test_passages_until_the_prefix_is_read_and_ask_reads_it_without_pruning(docs_settings):
    class Slow(ScriptedLLM):
        def __init__(self):
            super().__init__(["They met in Paris [2]."] * 3)
            self.ready, self.warmed, self.sides = False, [], []

        def prefix_ready(self, messages):
            return self.ready

        def warm(self, prompts, budget_bytes, prune=True, side=False):
            self.warmed.append((list(prompts), prune))
            self.sides.append(side)
            self.ready = True
            return {"made": 1, "snapshots": 1, "seconds": 0.0, "mb": 1.0, "dropped": 0}

    llm = Slow()
    bot = build_bot(docs_settings.model_copy(update={"warm_passages_mb": 64}), llm=llm)
    assert bot.plan().pending and bot.ask(Q).mode == "passages"
    report = bot.read_documents_ahead()
    assert report is not None and len(llm.warmed) == 1 and llm.warmed[0][1] is False
    assert NYT.split("_")[0] and "Question:" in llm.warmed[0][0][0][1]["content"]
    assert bot.plan().mode == "documents" and bot.read_documents_ahead() is None
    assert bot.warm() is not None and llm.warmed[-1][1] is True  # serve/eval read-ahead: the prefix only
    assert len(llm.warmed[-1][0]) == 1
    # `ask` and `eval`/`serve` alike read the prefix in a fresh context of its own, from its first token, so
    # its KV state (and every greedy answer) does not depend on what was read before it
    assert llm.sides == [True, True]


def test_why_panel_says_what_the_model_read(docs_settings):
    from qa_bot.server.render import turn_record, why_html

    bot = build_bot(docs_settings, llm=ScriptedLLM(["Russian state television calls him a clown [1]."]))
    html = why_html([turn_record(bot.ask(Q), None)])
    assert "read whole documents" in html


def test_anchors_spread_over_the_documents_are_enough_in_document_mode(docs_settings):
    """The model reads both articles at once: "NYT" and "WSJ" in one question need not share a passage."""
    llm = ScriptedLLM(["Grigorii Golosov is a political scientist in St. Petersburg, Russia [1]. "
                       "Samuel Charap is a senior political analyst at Rand Corporation [2]."])
    bot = build_bot(docs_settings, llm=llm)
    ans = bot.ask("Name one analyst quoted in the NYT article and one quoted in the WSJ article.")
    assert llm.calls and not ans.refused, (ans.notice, ans.removed_checks)
    assert "Golosov" in ans.answer and "Charap" in ans.answer
    assert bot.ask("Who is the lead actress in La La Land?").refused  # named by neither: refused before the model
    assert len(llm.calls) == 1


# --- one document whole + passages of the others (issue 16, plan b): the seeds are about 2,250 tokens each


@pytest.fixture
def one_doc_settings(docs_settings):
    """The seeds with a budget between one article and both: the best-matching article is read whole."""
    return docs_settings.model_copy(update={"context_tokens": 3000})


def test_planner_picks_all_documents_one_document_or_passages_by_budget(docs_settings):
    from qa_bot.answer.planner import estimate_tokens

    bot = build_bot(docs_settings, llm=ScriptedLLM())
    hits = bot.retriever.retrieve(Q).hits
    lib = library(docs_settings)
    sizes = [estimate_tokens((d,)) for d in lib.documents() or ()]
    assert max(sizes) < 3000 < sum(sizes) <= 6000, sizes
    assert plan(lib, 6000, hits).mode == "documents"
    p = plan(lib, 3000, hits)
    assert p.mode == "document" and [d.doc_id for d in p.documents] == [hits[0].chunk.doc_id]  # the top passage's
    assert p.passages and all(s.chunk.doc_id != hits[0].chunk.doc_id for s in p.passages)
    assert plan(lib, 3000).mode == "passages"  # no retrieval, no best document
    assert plan(lib, max(sizes) + 1, hits).mode == "passages"  # fits alone, not with the other passages
    assert plan(lib, 500, hits).mode == "passages" and plan(lib, 0, hits).mode == "passages"


def test_the_prompt_holds_the_best_document_whole_then_passages_of_the_others(one_doc_settings):
    llm = ScriptedLLM(["Samuel Charap is a senior political analyst at Rand Corporation [1]."])
    bot = build_bot(one_doc_settings, llm=llm)
    p = bot.plan(bot.retriever.retrieve(Q))
    assert p.mode == "document"
    ans = bot.ask(Q)
    assert ans.mode == "document" and ans.to_dict()["mode"] == "document" and not ans.refused
    system, prompt = llm.calls[-1][0]["content"], llm.calls[-1][1]["content"]
    doc = p.documents[0]
    assert "documents" in system and prompt.startswith(f"[1] {doc.title}\n") and doc.text.strip()[:2000] in prompt
    # the prefix, the same for every question of this document, is where the question's prompt starts
    prefix = bot.prefix(p)
    assert prefix == bot.prefix(bot.plan(bot.retriever.retrieve("Who is Samuel Charap?")))
    assert prompt.startswith(prefix[1]["content"].rstrip()[: -len("Question:")])
    others = prompt[len(prefix[1]["content"].rstrip()) - len("Question:"):]
    assert others.startswith("[2] ") and others.rstrip().endswith(f"Question: {Q}")
    assert doc.text.strip()[:300] not in others
    for s in p.passages:  # only passages of other documents, numbered after the document
        assert s.chunk.doc_id != doc.doc_id and s.chunk.text.strip()[:200] in others
    assert f"[{len(p.passages) + 2}]" not in others
    assert {c.source for c in ans.citations} == {doc.source}


def test_document_mode_waits_for_its_own_prefix_and_warm_reads_each_document_first(one_doc_settings):
    import json

    class Slow(ScriptedLLM):
        def __init__(self):
            super().__init__(["They met in Paris [1]."] * 3)
            self.ready: set[str] = set()
            self.warmed: list[tuple[list, bool, bool]] = []

        def prefix_ready(self, messages):
            return json.dumps(messages, sort_keys=True) in self.ready

        def warm(self, prompts, budget_bytes, prune=True, side=False):
            prompts = list(prompts)
            self.warmed.append((prompts, prune, side))
            self.ready |= {json.dumps(m, sort_keys=True) for m in prompts}
            return {"made": len(prompts), "snapshots": len(self.ready), "seconds": 0.5, "mb": 1.0, "dropped": 0}

    llm = Slow()
    bot = build_bot(one_doc_settings.model_copy(update={"warm_passages_mb": 64}), llm=llm)
    retrieval = bot.retriever.retrieve(Q)
    p = bot.plan(retrieval)
    assert p.mode == "passages" and p.pending and "not read ahead" in p.why
    assert bot.ask(Q).mode == "passages"
    report = bot.warm()
    assert report is not None and report["documents"] == 2 and report["seconds"] == 1.0
    (prefixes, prune1, side1), (rest, prune2, side2) = llm.warmed
    assert len(prefixes) == 2 and not prune1 and side1  # both articles fit alone: largest first, in a side context
    assert [m[1]["content"].split("\n")[0] for m in prefixes][0].startswith("[1] President Vladimir V. Putin")
    assert rest[:2] == prefixes and len(rest) == 2 + bot.retriever.store.count() and prune2 and not side2
    assert bot.plan(retrieval).mode == "document" and bot.ask(Q).mode == "document"


def test_sentences_citing_the_document_are_checked_against_its_passages(one_doc_settings):
    reply = ("Samuel Charap is a senior political analyst at Rand Corporation [1]. "
             "Angela Merkel said that Zelensky had acted like a schoolboy [1]. "
             "Russian state television calls Zelensky a clown [2].")
    bot = build_bot(one_doc_settings, llm=ScriptedLLM([reply]))
    p = bot.plan(bot.retriever.retrieve(Q))
    assert p.mode == "document" and p.documents[0].source == WSJ and p.passages[0].chunk.source == NYT
    ans = bot.ask(Q)
    assert "Charap" in ans.answer and "clown" in ans.answer and "Merkel" not in ans.answer
    by_source = {c.source: c for c in ans.citations}
    assert set(by_source) == {WSJ, NYT} and "Charap" in by_source[WSJ].quote and "clown" in by_source[NYT].quote
    assert {r["sentence"].split()[0]: r["check"] for r in ans.removed_checks}.get("Angela") == "entity"
    for c in ans.citations:
        assert (one_doc_settings.index_dir.parent / "seeds" / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote


def test_why_panel_names_the_one_document_mode(one_doc_settings):
    from qa_bot.server.render import turn_record, why_html

    bot = build_bot(one_doc_settings, llm=ScriptedLLM(["Samuel Charap is a senior political analyst at Rand Corporation [1]."]))
    html = why_html([turn_record(bot.ask(Q), None)])
    assert "one document whole + passages from others" in html


def test_a_document_of_a_passage_or_two_gets_no_prefix_of_its_own(tmp_path):
    """Many short files (SQuAD's paragraphs): the best one whole is no more than its passage, which
    passage mode reads ahead already; so passages, and no per-document prefix to read."""
    from qa_bot.answer.planner import documents_that_fit

    folder = tmp_path / "paras"
    folder.mkdir()
    for i in range(12):
        (folder / f"p{i}.txt").write_text(f"Paragraph {i} says the river {i} floods every spring. " * 20)
    s = Settings(index_dir=tmp_path / "index", data_dir=tmp_path / "data", embed_model="fake-hash",
                 llm_provider="extractive", context_tokens=1000, warm_passages_mb=0)
    assert build_ingestor(s).run([folder]).added == 12
    bot = build_bot(s)
    lib = library(s)
    hits = bot.retriever.retrieve("Which river floods every spring?").hits
    assert plan(lib, 1000, hits).mode == "passages"
    assert documents_that_fit(lib.documents() or (), 1000, 200) == []


def test_ask_reads_the_prefix_of_its_questions_best_document_when_the_corpus_does_not_fit(one_doc_settings):
    """`ask`/`chat`: plan (b) is read ahead for the question at hand (the serve read-ahead reads every document)."""
    import json

    from qa_bot.startup import read_ahead

    class Prefixes(ScriptedLLM):
        def __init__(self):
            super().__init__(["Samuel Charap is a senior political analyst at Rand Corporation [1]."] * 2)
            self.ready: set[str] = set()
            self.warmed: list[list] = []

        def prefix_ready(self, messages):
            return json.dumps(messages, sort_keys=True) in self.ready

        def warm(self, prompts, budget_bytes, prune=True, side=False):
            prompts = list(prompts)
            self.warmed.append(prompts)
            self.ready |= {json.dumps(m, sort_keys=True) for m in prompts}
            return {"made": len(prompts), "snapshots": len(self.ready), "seconds": 0.5, "mb": 1.0, "dropped": 0}

    llm = Prefixes()
    bot = build_bot(one_doc_settings.model_copy(update={"warm_passages_mb": 64}), llm=llm)
    said: list[str] = []
    read_ahead(bot, said.append)  # no question: only the whole-corpus prefix, which does not fit
    assert llm.warmed == [] and said == []
    read_ahead(bot, said.append, question=Q)
    best = bot.plan(bot.retriever.retrieve(Q))
    assert best.mode == "document" and llm.warmed == [[bot.prefix(best)]] and "reading the documents" in said[0]
    read_ahead(bot, said.append, question=Q)  # read once
    assert len(llm.warmed) == 1 and bot.ask(Q).mode == "document"


# --- a second try: every sentence of a whole-document answer failed a check, so the model is told why


def test_an_answer_that_fails_every_check_is_asked_again_with_the_reasons(docs_settings):
    llm = ScriptedLLM(["They met in Berlin in 2019 [2].", "They met in Paris in 2019 [2]."])
    bot = build_bot(docs_settings, llm=llm)
    ans = bot.ask("Where did Putin and Zelensky first meet?")
    assert len(llm.calls) == 2 and not ans.refused and "Paris" in ans.answer
    retry = llm.calls[1]
    assert retry[: len(llm.calls[0])] == llm.calls[0]  # the same chat, then the draft and why it failed
    assert retry[-2] == {"role": "assistant", "content": "They met in Berlin in 2019 [2]."}
    assert "Berlin" in retry[-1]["content"] and "entity" not in retry[-1]["content"]
    assert ans.raw_answer.startswith("They met in Berlin") and ans.second_draft.startswith("They met in Paris")
    assert [r["check"] for r in ans.removed_checks] == ["entity"]  # the first draft's removal stays listed
    assert "second time" in ans.notice and ans.to_dict()["second_draft"] == ans.second_draft


def test_a_second_try_is_checked_the_same_way_and_made_once(docs_settings):
    llm = ScriptedLLM(["They met in Berlin in 2019 [2].", "They met in Vienna in 2019 [2].", "unused"])
    ans = build_bot(docs_settings, llm=llm).ask("Where did Putin and Zelensky first meet?")
    assert ans.refused and len(llm.calls) == 2 and llm.replies == ["unused"]
    assert [r["sentence"].split()[3] for r in ans.removed_checks] == ["Berlin", "Vienna"]
    assert "second time" not in ans.notice


def test_no_second_try_for_a_refusal_in_passage_mode_or_when_switched_off(docs_settings):
    q = "Where did Putin and Zelensky first meet?"
    llm = ScriptedLLM(["I cannot answer that from the sources.", "They met in Paris in 2019 [2]."])
    assert build_bot(docs_settings, llm=llm).ask(q).refused and len(llm.calls) == 1  # the model's own refusal
    # a reason that names nothing to change (too little support): told it, the model wrote the same again
    llm = ScriptedLLM(["Bananas grow quickly in the tropics [2].", "They met in Paris in 2019 [2]."])
    ans = build_bot(docs_settings, llm=llm).ask(q)
    assert ans.refused and len(llm.calls) == 1 and [r["check"] for r in ans.removed_checks] == ["support"]
    for update in ({"context_tokens": 0}, {"second_try": False}):
        llm = ScriptedLLM(["They met in Berlin in 2019 [2].", "They met in Paris in 2019 [2]."])
        ans = build_bot(docs_settings.model_copy(update=update), llm=llm).ask(q)
        assert ans.refused and len(llm.calls) == 1, update


def test_stop_during_the_second_try_keeps_the_refusal(docs_settings):
    import threading

    stop = threading.Event()

    class StopsOnRetry(ScriptedLLM):
        def stream(self, messages, max_tokens=256, stop_words=None, **k):
            if len(self.calls) == 1:
                stop.set()  # the user presses stop as the second try begins
            yield from super().stream(messages, max_tokens)

    llm = StopsOnRetry(["They met in Berlin in 2019 [2].", "They met in Paris in 2019 [2]."])
    bot = build_bot(docs_settings, llm=llm)
    ans = [e for e in bot.stream("Where did Putin and Zelensky first meet?", stop=stop) if not isinstance(e, str)][-1]
    assert len(llm.calls) == 2 and ans.refused and not ans.second_draft

