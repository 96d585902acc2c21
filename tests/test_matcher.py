"""The strict answer matcher, and the seeds suite's `must_include` groups judged by it.

Known-wrong answers must score wrong and natural right answers must score right, on the real
questions of eval/seeds-dev.jsonl and eval/seeds-test.jsonl.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from qa_bot.evaluation.matcher import is_correct, mentions, must_include_ok, tokens

EVAL = Path(__file__).resolve().parents[1] / "eval"
SPLITS = ("seeds-dev.jsonl", "seeds-test.jsonl")


def _load(name: str) -> list[dict]:
    lines = (EVAL / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


DEV, TEST = (_load(n) for n in SPLITS)
ITEMS = {d["id"]: d for d in DEV + TEST}


def _scored(qid: str, answer: str) -> bool | None:
    item = ITEMS[qid]
    return is_correct(answerable=True, refused=False, answer=answer, must_include=item["must_include"])


# --- the matcher itself


def test_whole_words_only():
    assert not mentions("Charap thinks Putin is now ready [1].", "no")
    assert not mentions("It was in 2019.", "9")
    assert not mentions("In 2024 [1].", "4")
    assert not mentions("He is illegitimate.", "illegitima")
    assert not mentions("a winter offensive", "win")
    assert mentions("No, he is not.", "no")
    assert mentions("It was in 2019 [1].", "2019")


def test_phrase_is_adjacent_and_in_order():
    assert mentions("The stakes are just too high.", "stakes are just too high")
    assert not mentions("too high are the stakes", "stakes are too high")
    assert not mentions("he is not, however, ready", "not ready")


def test_number_words_equal_digits():
    assert tokens("five") == tokens("5")
    assert mentions("a five-year term", "5 years")
    assert mentions("the usual 5-year term", "five years")
    assert mentions("Putin called nine foreign leaders", "9 foreign leaders")
    assert mentions("a hundred preconditions", "100 preconditions")
    assert mentions("twenty-five people", "25 people")


def test_fractions():
    assert tokens("3½") == tokens("three and a half") == tokens("3.5") == tokens("3 1/2")
    assert tokens("3 and a half") == tokens("3.5") == ("3.5",)
    assert mentions("for 3½ years", "three and a half years")
    assert mentions("three-and-a-half years", "3.5 years")
    assert not mentions("for 3 years", "3.5 years")


def test_quotes_dashes_and_markers():
    assert tokens("“clown”") == tokens('"clown"') == ("clown",)
    assert tokens("Zelensky’s") == tokens("Zelensky's") == ("zelensky",)
    assert tokens("cease-fire") == tokens("cease–fire") == tokens("cease—fire") == tokens("cease fire")
    assert mentions("He dropped his cease‑fire demand [1][2].", "cease fire")
    assert tokens("In Paris [1, 2].") == tokens("In Paris")


def test_contractions():
    assert tokens("isn't") == tokens("is not") == tokens("isn’t")
    assert tokens("don't") == tokens("do not")
    assert tokens("can't") == tokens("cannot") == tokens("can not")
    assert tokens("won't") == tokens("will not")
    assert mentions("No, he doesn't think Putin is ready.", "not think Putin is ready")
    assert mentions("Putin isn't ready.", "not ready")


def test_plurals_and_possessives():
    assert tokens("sanctions") == tokens("sanction")
    assert tokens("demands") == tokens("demand")
    assert tokens("territories") == tokens("territory")
    assert mentions("Russia's key demands", "Russia key demand")
    assert tokens("Paris") == ("paris",) and tokens("news") == ("news",)


def test_accents_and_case():
    assert tokens("Türkiye") == tokens("Turkiye") == tokens("TURKIYE")
    assert mentions("He flew to TÜRKIYE.", "Türkiye")


def test_must_include_and_is_correct_rules():
    groups = [["Brazil"], ["India", "Bharat"]]
    assert must_include_ok("Brazil and India", groups)
    assert not must_include_ok("Brazil and China", groups)
    assert must_include_ok("anything", [])
    assert is_correct(answerable=False, refused=True, answer="", must_include=[]) is True
    assert is_correct(answerable=False, refused=False, answer="Paris", must_include=[]) is False
    assert is_correct(answerable=True, refused=True, answer="Paris", must_include=[["Paris"]]) is False
    assert is_correct(answerable=True, refused=False, answer="x", must_include=[]) is None
    assert is_correct(answerable=True, refused=True, answer="", must_include=[], answers=["Paris"]) is False
    assert is_correct(answerable=True, refused=True, answer="", must_include=[]) is None  # nothing to check by


def test_an_answer_opening_with_the_opposite_yes_or_no_is_wrong():
    """seeds-test q10: the must_include point is there, but the first word tells the reader the opposite."""
    ref = "No; it says a meeting is possible but has offered no indication it is imminent."
    groups = [["no indication", "not imminent"]]
    wrong = "Yes, the Kremlin has indicated that a meeting is possible but offering no indication that it is imminent [1]."
    assert must_include_ok(wrong, groups)
    assert is_correct(True, False, wrong, groups, reference=ref) is False
    assert is_correct(True, False, "No, it has offered no indication that it is imminent [1].", groups, reference=ref)
    assert is_correct(True, False, "[1] no: there is no indication it is imminent.", groups, reference=ref)
    assert is_correct(True, False, "It has offered no indication that it is imminent [1].", groups, reference=ref)
    assert is_correct(True, False, wrong, groups)  # no reference: the groups decide
    assert not is_correct(True, False, "Yes [1].", [], ["no"], reference="No")


# --- answers known to be wrong, on the real seeds questions

WRONG = [
    ("q58", "Charap thinks Putin is now ready [1]."),
    ("q58", "Yes, Charap thinks Putin is ready [1]."),
    ("q58", "He has no doubt that Putin is ready [1]."),
    ("q25", "He called 2019 leaders [1]."),
    ("q25", "Putin called eight foreign leaders [1]."),
    ("q77", "In 2024 [1]."),
    ("q77", "Five years [1]."),
    ("q49", "Four years [1]."),
    ("q49", "2025 [1]."),
    ("q39", "Three years [1]."),
    ("q39", "Since 2019 [1]."),
    ("q66", "10 [1]."),
    ("q66", "1,000 preconditions [1]."),
    ("q02", "Yes, the Kremlin considers him a legitimate leader [1]."),
    ("q10", "Yes, the Kremlin said a meeting is imminent [1]."),
    ("q21", "No, Zelensky is not ready to meet Putin [1]."),
    ("q23", "Yes, the Kremlin is against it [1]."),
    ("q45", "He said they are best friends [1]."),
    ("q103", "Yes, they have met again since then [1]."),
    ("q72", "He will refuse outright [1]."),
    ("q51", "At the beginning of the peace process [1]."),
    ("q36", "That society would not accept a meeting [1]."),
    ("q31", "It has become harsher [1]."),
    ("q54", "As a key player [1]."),
    ("q04", "Whether Trump could sit down with Putin one on one [1]."),
    ("q24", "China, India and Brazil [1]."),
    ("q80", "They demand that Ukraine join NATO [1]."),
    ("q107", "Neutrality and NATO membership [1]."),
    ("q61", "The relationship between Trump and Putin [1]."),
    ("q71", "He was prime minister under President Putin [1]."),
    ("q71", "He served as prime minister under the president [1]."),
    ("q70", "She is the foreign minister [1]."),
    ("q96", "Russia's foreign minister [1]."),
    ("q97", "He didn't specify who the officials would be [1]."),
    ("q20", "Zelensky and Ukrainian officials [1]."),
    ("q53", "Ukraine's security guarantees [1]."),
    ("q59", "Fighting corruption [1]."),
    ("q12", "If Russia is defeated on the battlefield [1]."),
    ("q18", "Because a three-way meeting would be better [1]."),
    ("q09", "If Trump demands it [1]."),
    ("q112", "She is a Russian lawmaker [1]."),
    ("q124", "Yes, Charap works for the Brookings Institution [1]."),
    ("q120", "He was elected in 2021 [1]."),
    ("q119", "They met in Berlin [1]."),
    ("q121", "It calls him a hero [1]."),
    # summaries and comparisons: a summary of the other article, or one that gets the outlook wrong
    ("q126", "The article says Putin has called Zelensky an illegitimate puppet of the West for years, and Trump's "
             "push for a meeting puts him in a bind. Stanovaya expects Putin to pour cold water on the idea [1]."),
    ("q127", "Trump says he began arranging a Putin-Zelensky meeting, but the Kremlin gives no indication it is "
             "imminent. State television calls Zelensky a clown, and Golosov sees no prospect of a meeting [1]."),
    ("q131", "Both articles say a meeting is imminent: Trump has arranged it and the Kremlin has agreed [1][2]."),
    ("q140", "Both articles say Zelensky refuses to meet Putin until Russia agrees to a cease-fire [1][2]."),
]


@pytest.mark.parametrize(("qid", "answer"), WRONG)
def test_known_wrong_answers_score_wrong(qid, answer):
    assert _scored(qid, answer) is False


# --- right answers in natural phrasing

RIGHT = [
    ("q58", "No, Charap doesn't think Putin is ready [1]."),
    ("q58", "No. He says “I don’t think he’s ready” [1]."),
    ("q25", "Putin called nine foreign leaders [1]."),
    ("q25", "He called the leaders of 9 countries [1]."),
    ("q77", "Four years: they met in 2019 [1] and the attack came in 2023 [2]."),
    ("q39", "For 3½ years [1]."),
    ("q39", "Three and a half years [1]."),
    ("q49", "The usual term is five years [1]."),
    ("q49", "A 5-year term [1]."),
    ("q66", "The Russians would present 100 of their own [1]."),
    ("q66", "He said Russia would present a hundred preconditions [1]."),
    ("q02", "No, the Kremlin insists he’s an illegitimate leader [1]."),
    ("q10", "No, the Kremlin has offered no indication that it is imminent [1]."),
    ("q21", "Yes, Zelensky told reporters that he was ready to meet with Putin [1]."),
    ("q23", "No, Lavrov said the Kremlin isn't against a bilateral meeting in principle [1]."),
    ("q45", "He said they “haven’t been exactly best friends” [1]."),
    ("q103", "No, they haven't met since [1]."),
    ("q103", "No, Paris was their first and only meeting [1]."),
    ("q72", "Pouring cold water on the idea without actually refusing a meeting outright [1]."),
    ("q24", "Saudi Arabia, Kyrgyzstan, Brazil, India, Tajikistan, South Africa, Uzbekistan, Kazakhstan "
            "and Belarus [1]."),
    ("q80", "Ukraine must limit the future size of its military [1] and disarm [2]."),
    ("q107", "Ukraine's disarmament, political neutrality and abandoning its aspiration to join NATO [1]."),
    ("q54", "In Putin’s eyes, Zelensky is not a player [1]."),
    ("q31", "Golosov says Russia's rhetoric has softened since then [1]."),
    ("q71", "He was formerly President of Russia [1]."),
    ("q110", "Türkiye [1]."),
    ("q112", "A host on the political talk show “60 Minutes” [1]."),
    ("q65", "He dropped his demand for a ceasefire [1]."),
    ("q28", "His claims on Ukrainian territory and his insistence that Ukraine limit the size of its "
            "military [1]."),
    ("q127", "The WSJ says Trump wants Putin to meet Zelensky, whom Putin calls a puppet of the West [1]. That puts "
             "Putin in a difficult position, and analysts expect him to stall without refusing outright [2]."),
    ("q134", "The NYT says Putin would only meet if Zelensky accepted Russia's key demands [1], while the WSJ says "
             "Putin wants a meeting only at the final stage of a peace process, to sign documents [2]."),
    ("q136", "It is about whether Putin and Zelensky could meet one on one, as Trump has proposed, although the "
             "Kremlin has offered no indication that such a meeting is imminent [1]."),
    ("q12", "Only if it is needed for Ukraine to capitulate and for Zelensky to admit his defeat [1]."),
]


@pytest.mark.parametrize(("qid", "answer"), RIGHT)
def test_natural_right_answers_score_right(qid, answer):
    assert _scored(qid, answer) is True


# References too terse to name the fact with its unit: "Nine." and "100." (a bare number is not checked).
TERSE_REFERENCES = {"q25", "q66"}


def test_references_pass_their_own_must_include():
    answerable = [d for d in ITEMS.values() if d["answerable"]]
    failing = {d["id"] for d in answerable if not must_include_ok(d["reference"], d["must_include"])}
    assert failing == TERSE_REFERENCES


# --- the split files


def test_split_files_cover_the_suite_once():
    ids = [d["id"] for d in DEV + TEST]
    assert len(ids) == 141
    assert len(set(ids)) == len(ids)


def test_answerable_items_are_complete():
    for d in ITEMS.values():
        if not d["answerable"]:
            assert "must_include" not in d, d["id"]
            continue
        groups = d["must_include"]
        assert groups and all(g and all(isinstance(a, str) and a.strip() for a in g) for g in groups), d["id"]
        assert d["reference"].strip(), d["id"]
        # cross-document questions name a passage of each article
        assert d.get("evidence") and d.get("doc"), d["id"]


def test_no_short_alternatives_but_names_acronyms_and_years():
    allowed = {"nato", "rand", "fox", "hse", "afp", "duma", "june", "2019", "2022", "2023"}
    for d in ITEMS.values():
        for group in d.get("must_include", []):
            for alt in group:
                assert len(alt) > 4 or alt.lower() in allowed, (d["id"], alt)
                assert tokens(alt), (d["id"], alt)


def test_categories_split_about_60_40_in_both_files():
    dev, test = Counter(d["category"] for d in DEV), Counter(d["category"] for d in TEST)
    for cat in dev | test:
        n = dev[cat] + test[cat]
        if n >= 2:
            assert dev[cat] and test[cat], cat
            assert abs(dev[cat] - 0.6 * n) <= 1.5, (cat, dev[cat], n)


def test_conversations_stay_in_one_split():
    where: dict[str, set[str]] = {}
    for name, items in zip(SPLITS, (DEV, TEST), strict=True):
        for d in items:
            if "conversation" in d:
                where.setdefault(d["conversation"], set()).add(name)
    assert where and all(len(s) == 1 for s in where.values())
