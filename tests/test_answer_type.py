"""The answer-type check: an answer must give the kind of thing its question asks for (fakes)."""

from __future__ import annotations

import pytest

from qa_bot.answer.asked import asks, unanswered
from qa_bot.answer.citations import CitationChecker
from qa_bot.fakes import HashEmbedder
from qa_bot.schema import Chunk, Scored

STAGE = ("In June, Mr. Putin said he was ready to meet Mr. Zelensky, but only as a final stage, if the Kremlin was "
         "satisfied with the concessions that the Ukrainian president would be willing to make.")
TUESDAY = ("On Tuesday, Russian figures mocked or attacked Zelensky: Dmitry Medvedev called him a clown, and "
           "Maria Zakharova said he was a puppet.")
PARIS = "The first and only time Putin met Zelensky was in Paris in 2019."
YEARS = PARIS + " Four years after their only meeting, in 2023, Putin made the attack."
PLAGUE = "The second wave of the plague reached England in the spring of 1349, in June, after crossing from France."
EC = ("Reflecting the economic nature of the project, the European Community originally focused upon free movement of "
      "workers, not on the rights of citizens.")
SKY = ("BSkyB set a target of 3.5 million households by mid-1994, 36% of households, for its satellite service, "
       "and reached a third of them by 1993.")


@pytest.mark.parametrize("question, kind", [
    ("When did Putin say he was ready to meet Zelensky only as a final stage?", "when"),
    ("In what year did they meet?", "when"),
    ("When the Rhine took a right turn what did it create?", None),  # "when" without a verb opens a clause
    ("When rich countries trade with poor countries, whose wages increase?", "who"),  # after a leading clause
    ("In 1939, how many people lived in Warsaw?", "amount"),
    ("When did Putin, who met Zelensky in Paris, say he would meet him again?", "when"),
    ("How many foreign leaders did Putin call this week?", "amount"),
    ("On what date was the Trump-Putin summit in Alaska held?", "when"),
    ("How many years passed between their only meeting and the attack?", "span"),
    ("Who did Trump meet at the White House?", "who"),
    ("Who is Yuri Ushakov?", None),  # asks for a description
    ("Which European leaders were at the White House meeting?", "which"),
    ("What strategy do analysts expect Putin to use?", None),
    ("What did countries such as Spain have a crime against?", None),
    ("Where did they meet?", "where"),
    ("What was the target percentage of households BSkyB wanted to reach?", "share"),
    ("What proportion of voters stayed home?", "share"),
    ("In what month in 1349 did the plague reach England?", "month"),
    ("Which month did they meet in?", "month"),
    ("What molecule does the Sun have in higher proportion than Earth?", None),  # asks what, not how much
    ("Why is the Kremlin wary?", None),
])
def test_what_a_question_asks_for(question, kind):
    assert asks(question) == kind


def _verify(question: str, answer: str, passage: str, asked: str = ""):
    chunk = Chunk("d:0", "d", "nyt.txt", "The New York Times", passage, 0, len(passage), 0)
    return CitationChecker(HashEmbedder(), 0.3).verify(answer + " [1]", [Scored(chunk, 1.0)], question, asked=asked)


# answers the sources back word for word that leave the question open (seeds-test q50, q79, q86)
@pytest.mark.parametrize("question, answer, passage", [
    ("When did Putin say he was ready to meet Zelensky only as a final stage?",
     "Putin said he was ready to meet Zelensky only as a final stage, if the Kremlin was satisfied with the "
     "concessions that the Ukrainian president would be willing to make.", STAGE),
    ("Which Russian figures mocked or attacked Zelensky on Tuesday?",
     "According to the two articles, Russian figures mocked or attacked Zelensky on Tuesday.", TUESDAY),
    ("Which other leaders attended the 2019 Paris meeting between Putin and Zelensky?",
     "The New York Times says that the first and only time Putin met Zelensky was in Paris in 2019.", PARIS),
    ("When did Putin say he was ready to meet Zelensky only as a final stage?",  # "during" names no time
     "Putin said he was ready to meet Zelensky only as a final stage during the talks.", STAGE + " He said so during the talks."),
    # a calendar year is no span of time (seeds-dev q77 answered from passages: "2023 [1]")
    ("How many years passed between Putin and Zelensky's only meeting and the attack?", "2023", YEARS),
    # a count is no share (SQuAD 2.0, its paragraph left out: "3.5 million by mid-1994")
    ("What was the target percentage of households BSkyB wanted to reach?",
     "The target percentage of households BSkyB wanted to reach was 3.5 million by mid-1994.", SKY),
    # a season is no month (SQuAD 2.0, unanswerable: the source names none for 1349)
    ("In what month in 1349 did the second wave of the plague reach England?",
     "The second wave of the plague reached England in the spring of 1349.", PLAGUE),
    # asked what it did not focus on, it says what it did (SQuAD 2.0, unanswerable)
    ("What did the European Community not originally focus on?",
     "The European Community originally focused on free movement of workers.", EC),
])
def test_an_answer_that_gives_nothing_of_the_kind_asked_is_removed(question, answer, passage):
    v = _verify(question, answer, passage)
    assert v.citations == [] and [r["check"] for r in v.removed_checks] == ["answer-type"]
    assert "asks for" in v.removed_checks[0]["detail"]


@pytest.mark.parametrize("question, answer, passage", [
    ("When did Putin say he was ready to meet Zelensky only as a final stage?",
     "In June, Putin said he was ready to meet Zelensky only as a final stage.", STAGE),
    ("Which Russian figures mocked or attacked Zelensky on Tuesday?",
     "Dmitry Medvedev called him a clown, and Maria Zakharova said he was a puppet.", TUESDAY),
    ("Who mocked Zelensky on Tuesday?", "Russian figures mocked or attacked Zelensky.", TUESDAY),  # a group
    ("Who met Zelensky only once?", "Putin said he met Zelensky only once, in Paris in 2019.", PARIS),  # no attribution
    ("Who can meet Zelensky when others refuse?",  # "states" is no "says" here
     "The courts of member states can meet Zelensky when others refuse.", "The courts of member states can meet Zelensky."),
    ("How many times have Putin and Zelensky met?", "Putin met Zelensky only once, in Paris in 2019.", PARIS),
    ("How many meetings did Putin and Zelensky hold?", "Putin and Zelensky held one meeting, in Paris in 2019.", PARIS),
    ("How many years passed between Putin and Zelensky's only meeting and the attack?",
     "Four years passed between their only meeting in 2019 and the attack in 2023.", YEARS),
    ("How many people lived in Kyiv in 2019?", "In 2019, 2950 people lived in Kyiv.", "In 2019, 2950 people lived in Kyiv."),
    ("What was the target percentage of households BSkyB wanted to reach?",
     "BSkyB wanted to reach 36% of households.", SKY),
    ("What percentage of households did BSkyB reach by 1993?", "BSkyB reached a third of them by 1993.", SKY),
    ("In what month in 1349 did the second wave of the plague reach England?",
     "The second wave of the plague reached England in June 1349.", PLAGUE),
    ("What did the European Community not originally focus on?",
     "The European Community did not originally focus on the rights of citizens.", EC),
    ("What should be the main goal of not using punishment?",  # "not using" negates no verb of the question
     "The main goal should be to ask whether punishment would do more harm than good.",
     "In a just system, the main goal should be to ask whether punishment would do more harm than good."),
    ("What period does 1/p have, assuming p is a prime that is not 2 or 5?",  # "not" in a clause of its own
     "1/p has period p - 1.", "If p is a prime other than 2 and 5, 1/p has period p - 1."),
    ("Why did the European Community not focus on the rights of citizens?",  # a reason needs no negation
     "The European Community originally focused on free movement of workers, reflecting the project's economic "
     "nature.", EC),
])
def test_an_answer_that_gives_the_kind_asked_survives(question, answer, passage):
    v = _verify(question, answer, passage)
    assert v.citations and not v.removed_checks


def test_a_rewritten_follow_up_is_held_to_what_the_user_asked():
    # "What did he leave out?" condensed to "Who did Ushakov leave out?": the user asked for no name
    question, passage = "Who did Yuri Ushakov leave out when he summarized the call?", (
        "Yuri Ushakov made no mention of an upcoming summit when he summarized the call.")
    answer = "Yuri Ushakov left out any mention of an upcoming summit when he summarized the call."
    assert unanswered(question, [answer], frozenset())
    assert _verify(question, answer, passage, asked="What did he leave out when he summarized the call?").citations



# the name that answers "who" must be in the sentence the quote shows, not only one beside it (seeds-dev q33)
PATH = ("Konstantin Zatulin backs Mr. Putin. “Russia has chosen this path, and it’s had an influence on Trump,” he "
        "said. The Kremlin has not commented.")


def test_a_who_answer_whose_quote_does_not_name_it_is_removed():
    v = _verify("According to Zatulin, who has Russia's chosen path influenced?",
                "According to Zatulin, Russia's chosen path has influenced Putin.", PATH)
    assert v.citations == [] and [r["check"] for r in v.removed_checks] == ["answer-type"]


def test_a_who_answer_whose_quote_names_it_survives():
    v = _verify("According to Zatulin, who has Russia's chosen path influenced?",
                "According to Zatulin, Russia's chosen path has influenced Trump.", PATH)
    assert "Trump" in v.citations[0].quote and not v.removed_checks


def test_a_when_answer_may_take_its_date_from_the_sentence_before():
    """seeds-dev q116: "In 2023, Putin attacked ... He said ...": the date one sentence earlier still answers."""
    passage = ("In 2023, for example, Mr. Putin attacked Mr. Zelensky's Jewish identity. He said Jewish friends "
               "had told him that Zelensky was a disgrace to the Jewish people.")
    v = _verify("When did Putin say Jewish friends told him Zelensky was a disgrace?",
                "Putin said in 2023 that Jewish friends had told him that Zelensky was a disgrace to the Jewish people.",
                passage)
    assert v.citations and not v.removed_checks, v.removed_checks
