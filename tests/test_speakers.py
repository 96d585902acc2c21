"""The speaker check: words the source gives to one person are not kept as another's (fakes)."""

from __future__ import annotations

import pytest

from qa_bot.answer.citations import CitationChecker
from qa_bot.answer.speakers import misattributed, speaker
from qa_bot.fakes import HashEmbedder
from qa_bot.schema import Chunk, Scored

# the seeds: Golosov is quoted a paragraph before this sentence, so the entity check finds his name nearby
TRENIN = ("Grigorii Golosov, a political scientist in St. Petersburg, said a summit was unlikely. Mr. Trenin "
          "predicted that Mr. Putin would agree to a meeting with Mr. Zelensky if the Kremlin was satisfied with the "
          "concessions that the Ukrainian president would be willing to make.")
CHARAP = "“I don’t think he’s ready,” said Samuel Charap, veteran Russia watcher at Rand Corporation."


@pytest.mark.parametrize("sentence, who", [
    ("Golosov predicts Putin would meet Zelensky if the Kremlin is satisfied.", "golosov"),
    ("Mr. Trenin predicted that Mr. Putin would agree to a meeting.", "trenin"),
    ("According to Tatiana Stanovaya, Putin sees Zelensky as not a player.", "stanovaya"),
    (CHARAP, "charap"),
    ("Mr. Zatulin, a senior Russian lawmaker, said in a phone interview that it was a compromise.", "zatulin"),
    ("No, Samuel Charap does not think Putin is ready to negotiate.", "charap"),
    # a publisher, a pronoun or no speech verb: no speaker
    ("According to The Wall Street Journal, Putin will meet Zelensky.", None),
    ("The Wall Street Journal says Putin will meet Zelensky.", None),
    ("According to the two articles, Russia demands that Ukraine disarm.", None),
    ("He said the meeting was possible.", None),
    ("Putin and Zelensky met in Paris in 2019.", None),
])
def test_the_speaker_a_sentence_names(sentence, who):
    assert speaker(sentence) == who


def test_words_given_to_the_wrong_analyst_are_removed():
    claim = "Golosov predicts Putin would meet Zelensky if the Kremlin is satisfied with the concessions [1]."
    chunk = Chunk("d:0", "d", "nyt.txt", "NYT", TRENIN, 0, len(TRENIN), 0)
    v = CitationChecker(HashEmbedder(), 0.3).verify(claim, [Scored(chunk, 1.0)],
                                                    "Under what circumstances does Golosov predict Putin would meet?")
    assert v.citations == []
    assert v.removed_checks == [{"sentence": claim.replace(" [1]", ""), "check": "speaker",
                                 "detail": "the sentence it rests on gives these words to Trenin, not Golosov"}]


@pytest.mark.parametrize("claim, quoted", [
    ("Trenin predicts Putin would agree to a meeting.", TRENIN.split(". ", 1)[1]),  # the same person
    ("Charap does not think Putin is ready.", CHARAP),
    ("Vladimir V. Putin said he was ready.", "Mr. Putin said he was ready to meet."),  # written differently
    ("Golosov said a summit was unlikely.", "He said a summit was unlikely."),  # the source names no one
    ("Golosov predicted a meeting.", "Mr. Trenin, like Mr. Golosov, predicted a meeting."),
])
def test_the_same_or_an_unnamed_speaker_survives(claim, quoted):
    assert misattributed(claim, quoted) == ""
