"""The contradiction check: a claim a source sentence about the same thing negates is removed (fakes)."""

from __future__ import annotations

import pytest

from qa_bot.answer.citations import CitationChecker
from qa_bot.answer.polarity import contradiction
from qa_bot.fakes import HashEmbedder
from qa_bot.schema import Chunk, Scored

CHARAP = ("“A meeting could indicate that he’s really willing to negotiate the end of this war, and I don’t think "
          "he’s ready,” said Samuel Charap, veteran Russia watcher and senior political analyst at Rand Corporation.")
KREMLIN = "The Kremlin insists he’s an illegitimate leader. Russian state television calls him a “clown.”"
NEVER = "Mr. Putin’s disdain for his Ukrainian counterpart runs so deep that he almost never utters the name “Zelensky.”"
DEMANDS = ("Mr. Putin’s far-reaching demands remained on the table, including not only his claims on Ukrainian "
           "territory but also his insistence that Ukraine limit the future size of its military.")
SINCE = "Putin and Zelensky have not met since. Their only meeting was in Paris in 2019."


# (seeds answers that passed support: the source says the opposite)
@pytest.mark.parametrize("claim, passage, said", [
    ("Yes, Samuel Charap thinks Putin is ready to negotiate the end of the war.", CHARAP, "not … think"),
    ("Yes, the Kremlin considers Zelensky a legitimate leader.", KREMLIN.split(". ")[0],
     '"illegitimate" where the answer says "legitimate"'),
])
def test_a_claim_its_source_negates_is_removed(claim, passage, said):
    assert said in contradiction(claim, [passage])
    passage = "Putin wants a summit on his terms, and Zelensky visited the White House. " + passage  # names elsewhere
    chunk = Chunk("d:0", "d", "wsj.txt", "WSJ", passage, 0, len(passage), 0)
    v = CitationChecker(HashEmbedder(), 0.3).verify(claim + " [1]", [Scored(chunk, 1.0)])
    assert v.citations == [] and v.removed_checks[0]["check"] == "contradiction"
    assert said in v.removed_checks[0]["detail"] and "wsj.txt" in v.removed_checks[0]["detail"]


@pytest.mark.parametrize("claim, sentence", [
    ("Putin almost never utters Zelensky's name.", NEVER),  # the claim negates too
    ("Putin rarely says Zelensky's name.", NEVER),  # a negative paraphrase
    ("Putin's demands include his claims on Ukrainian territory.", DEMANDS),  # "not only ... but also"
    ("Putin and Zelensky met in Paris in 2019.", SINCE.split(". ")[0]),  # the sentence lacks the claim's year
    ("The Kremlin calls Zelensky a clown.", KREMLIN),  # nothing negated
])
def test_agreeing_or_unrelated_sentences_are_no_contradiction(claim, sentence):
    assert contradiction(claim, [sentence]) == ""


@pytest.mark.parametrize("claim, sentence", [
    # seeds and SQuAD answers the first version of the rule removed wrongly
    ("Putin has said that various conditions would need to be met before he talks face-to-face with Zelensky.",
     "Putin has said he isn’t opposed to talking face-to-face, but that various conditions would need to be met."),
    ("Yuri Ushakov left out the mention of any upcoming summit.",
     "Mr. Ushakov made no mention of any upcoming summit when he summarized the phone call."),
    # the bench's passage mode: what is negated is said of Putin, not of the claim's Zelensky
    ("Yes, Zelensky has said he is willing to meet Putin.",
     "Moscow will paint Zelensky as a dilettante that Putin shouldn’t stoop to meet."),
    ("Yes, Zelensky has said he is willing to meet Putin.",
     "Mr. Zatulin said some Russian officials believed Mr. Putin should not meet with Mr. Zelensky in any scenario."),
    # the bench's passage mode: the same names, but what is negated is said of Putin, not of Zelensky
    ("Yes, Zelensky has said he is willing to meet Putin.",
     "Moscow has hinted it will continue to paint Zelensky as a dilettante that Putin shouldn’t stoop to meet."),
])
def test_double_negation_and_negated_nouns_are_no_contradiction(claim, sentence):
    assert contradiction(claim, [sentence]) == ""
