"""The paste check: an answer longer than the one or two sentences asked for that copies two or more of them word
for word from the sources is a passage pasted, not an answer (qa_bot/answer/pasted.py), and in passage mode it
becomes the refusal."""

from __future__ import annotations

from qa_bot.answer.pasted import copied, pasted
from qa_bot.factory import build_bot
from qa_bot.fakes import ScriptedLLM
from qa_bot.text import sentence_spans

# SQuAD 2.0, "Computational complexity theory": asked which unit measures circuit complexity with that paragraph
# left out of the index, the model copied this one out
PASSAGE = ("To measure the difficulty of solving a computational problem, one may wish to see how much time the best "
           "algorithm requires to solve the problem. However, the running time may, in general, depend on the "
           "instance. In particular, larger instances will require more time to solve. Thus the time required to "
           "solve a problem is calculated as a function of the size of the instance.")


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_a_copied_passage_is_pasted():
    said = _sentences(PASSAGE)
    assert len(copied(said, [PASSAGE])) == 4
    assert "copies 4 of them" in pasted(said, [PASSAGE])


def test_case_punctuation_and_markers_aside_a_copy_is_a_copy():
    said = ["to measure the difficulty of solving a computational problem one may wish to see how much time the best "
            "algorithm requires to solve the problem", "However, the running time may, in general, depend on the instance",
            "In particular larger instances will require more time to solve"]
    assert copied(said, [PASSAGE]) == said


def test_two_copied_sentences_with_the_models_own_are_pasted():
    said = ["Circuit complexity is measured in gates.", *_sentences(PASSAGE)[1:3]]
    assert "copies 2 of them" in pasted(said, [PASSAGE])


def test_one_or_two_sentences_or_one_copied_of_more_answer():
    assert pasted(_sentences(PASSAGE)[:2], [PASSAGE]) == ""  # what was asked for, quoted
    said = [_sentences(PASSAGE)[0], "Circuit complexity is measured in gates.", "It counts them."]
    assert pasted(said, [PASSAGE]) == ""


def test_paraphrase_and_short_phrases_are_not_copies():
    said = ["The time needed grows with the size of the instance.", "Larger instances.", "The running time",
            "It depends on the instance."]
    assert copied(said, [PASSAGE]) == []


def test_passage_mode_answer_pasted_from_a_passage_is_refused_with_its_reason(seeds_index_fake):
    bot = build_bot(seeds_index_fake, llm=ScriptedLLM([]))
    q = "Who did Putin call this week?"
    retrieval = bot.retriever.retrieve(q)
    assert bot.plan(retrieval).mode == "passages"
    text = next(s.chunk.text for s in retrieval.hits if len(_sentences(s.chunk.text)) >= 3)
    draft = " ".join(f"{s} [1]" for s in _sentences(text)[:3])
    bot.llm = ScriptedLLM([draft])
    ans = bot.ask(q)
    assert ans.refused and not ans.citations
    assert {r["check"] for r in ans.removed_checks} == {"pasted"}
    assert len(ans.removed_sentences) == 3
