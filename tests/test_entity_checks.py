"""Entity and anchor checks (issue 15): look-alike passages no longer back answers they never state."""

from __future__ import annotations

import json

import pytest

from qa_bot.answer.anchors import qualifies, question_anchors, unanswerable
from qa_bot.answer.citations import CitationChecker
from qa_bot.answer.entities import entities, found, haystack, known_names
from qa_bot.factory import build_bot
from qa_bot.fakes import HashEmbedder, ScriptedLLM
from qa_bot.retrieval.hybrid import Retrieval
from qa_bot.schema import Answer, Chunk, Removal, Scored
from qa_bot.server.render import turn_record, why_html

MULAN = "The lead actress in Mulan is Liu Yifei, the Chinese-American actress who plays Mulan herself."
MUSICAL = "The director of the new musical about a woman in Hollywood is Jerry Mitchell, who also staged Kinky Boots."
PLAN = "Anne-Birgitte Albrectsen is the CEO of Plan International, a charity for the rights of children."
SKABEYEVA = (
    "Olga Skabeyeva, a host on the political talk show “60 Minutes,” said Mr. Zelensky had acted “like a "
    "schoolboy” during his White House visit on Monday, laughing at the jokes of President Trump."
)
CALLS = (
    "The Kremlin said that Mr. Putin had called the leaders of Saudi Arabia, Kyrgyzstan, Brazil, India, "
    "Tajikistan, South Africa, Uzbekistan, Kazakhstan and Belarus this week."
)
KYIV = "Zelensky is based in Kyiv, the capital of Ukraine, where the population has grown since the war began."
NYT_LEDE = (
    "President Vladimir V. Putin’s disdain for his Ukrainian counterpart runs so deep that he almost never "
    "utters the name “Zelensky.” Mr. Zelensky’s visit to the White House on Monday was mocked."
)

# (question, look-alike passage, the answer sentence, what the removal names, passes today's support check)
LOOKALIKES = [
    ("Who is the lead actress in La La Land?", MULAN,
     "The lead actress in La La Land is Liu Yifei, the Chinese-American actress playing Mulan herself [1].", "La La Land", True),
    ("Who directed Pretty Woman?", MUSICAL, 'The director of "Pretty Woman" is Jerry Mitchell [1].', "Pretty Woman", True),
    ("Who was the CEO of Lego in 2021?", PLAN, "The CEO of Lego in 2021 is Anne-Birgitte Albrectsen [1].", "Lego", False),
    ("Who said Zelensky acted like a schoolboy?", SKABEYEVA,
     "Angela Merkel said that Zelensky had acted like a schoolboy [1].", "Merkel", True),
    ("What is the capital of Kazakhstan?", CALLS, "The capital of Kazakhstan is Astana [1].", "Astana", False),
    ("What is the population of Kyiv?", KYIV, "The population of Kyiv is approximately 1,200,000 [1].", "1,200,000", False),
]


def _src(text: str, title: str = "Title", doc: str = "d", pos: int = 0) -> Scored:
    return Scored(Chunk(f"{doc}:{pos:05d}", doc, f"{doc}.txt", title, text, 0, len(text), pos), 1.0)


def _checker(entity: bool = True, anchor: bool = True) -> CitationChecker:
    return CitationChecker(HashEmbedder(), 0.5, entity_check=entity, anchor_check=anchor)


# --- the look-alike answers of issue 15


@pytest.mark.parametrize("question,passage,answer,named,passes_support", LOOKALIKES)
def test_lookalike_sentence_is_removed_by_the_entity_check(question, passage, answer, named, passes_support):
    v = _checker(anchor=False).verify(answer, [_src(passage)], question)
    assert not v.citations and len(v.removed) == 1
    (r,) = v.removed_checks
    assert r["sentence"] == v.removed[0] and r["check"] == "entity"
    assert named in r["detail"] and "the cited passage" in r["detail"]
    if passes_support:  # the fixture really is a look-alike: today's check alone keeps it
        assert _checker(entity=False, anchor=False).verify(answer, [_src(passage)], question).citations


@pytest.mark.parametrize("question,passage,answer,named,passes_support", LOOKALIKES[:3])
def test_lookalike_sentence_is_removed_by_the_anchor_check(question, passage, answer, named, passes_support):
    v = _checker(entity=False).verify(answer, [_src(passage)], question)
    assert not v.citations
    if passes_support:
        assert v.removed_checks[0]["check"] == "anchor" and named in v.removed_checks[0]["detail"]


def test_failing_sentence_is_reattributed_to_a_passage_that_names_the_person():
    v = _checker().verify("Olga Skabeyeva said Zelensky acted like a schoolboy [1].", [_src(CALLS), _src(SKABEYEVA, doc="e")])
    assert v.citations and v.citations[0].quote.startswith("Olga Skabeyeva")


# --- sentences that must survive


@pytest.mark.parametrize("passage,answer", [
    ("The first and only time Putin met Zelensky was in Paris in 2019.", "Putin and Zelensky first met in 2019, in Paris [1]."),
    (NYT_LEDE, "Putin almost never utters the name Zelensky [1]."),
    (NYT_LEDE, "Vladimir Putin almost never utters the name of Zelensky [1]."),
    (NYT_LEDE, "Zelensky visited the White House on Monday, where his visit was mocked [1]."),
    (NYT_LEDE, "Ukrainian President Volodymyr Zelensky’s White House visit on Monday was mocked [1]."),
    ("He extended his mandate beyond the usual five-year term.", "He extended his mandate beyond the usual 5-year term [1]."),
    ("Three leaders met in Paris in 2019.", "3 leaders met in Paris in 2019 [1]."),
    ("The city has 1,200,000 inhabitants.", "The city has 1.2 million inhabitants [1]."),
    ("Russia has been talking everywhere about Zelensky's illegitimacy.", "Russian officials talk about Zelensky's illegitimacy everywhere [1]."),
])
def test_supported_sentence_survives_the_entity_check(passage, answer):
    v = _checker().verify(answer, [_src(passage)], "")
    assert v.citations and not v.removed, v.removed_checks


def test_title_backs_a_publication_named_in_the_answer():
    v = _checker().verify("The WSJ reports that Putin met Zelensky in Paris [1].",
                          [_src("Putin met Zelensky in Paris in 2019.", title="Putin and Zelensky (The Wall Street Journal)")])
    assert v.citations, v.removed_checks


# --- the rules, one by one


@pytest.mark.parametrize("name,passage,ok", [
    ("Putin", "President Vladimir V. Putin said", True),
    ("Vladimir Putin", "President Vladimir V. Putin said", True),
    ("Zelensky", "President Volodymyr Zelensky said", True),
    ("Volodymyr Zelensky", "Mr. Zelensky’s visit", True),
    ("Angela Merkel", "Mr. Zelensky’s visit", False),
    ("Angela Merkel", "Chancellor Merkel said", True),
    ("La La Land", "Mulan is a land of legend", False),
    ("Anne-Birgitte Albrectsen", "Anne-Birgitte Albrectsen spoke", True),
    ("the WSJ", "The Wall Street Journal", True),
    ("the NYT", "The New York Times", True),
    ("the U.N.", "United Nations officials", True),
    ("the U.N.", "UN officials", True),
    ("the NYT", "The Wall Street Journal", False),
    ("on Tuesday", "on Tuesday, Russian officials", True),
    ("in Sept.", "in September", True),
    ("on Monday", "on Tuesday", False),
    ("in 2021", "in 2019", False),
    ("the 10th century", "the tenth century", True),
    ("Beyonce", "Beyoncé sang", True),
])
def test_entity_found_in_passage(name, passage, ok):
    (e,) = entities(f"It was {name} again.")
    assert found(e, haystack(passage)) is ok


def test_nationality_adjectives_and_joined_names():
    assert entities("It was the Russian army and European leaders again.") == []  # adjectives, not who is named
    assert [e.text for e in entities("It was a Putin-Zelensky meeting.")] == ["Putin", "Zelensky"]
    assert entities("They proposed a two-way meeting of the two leaders.") == []


def test_names_from_capitals_with_the_first_word_handled():
    def texts(sentence: str, *context: str) -> list[str]:
        return [e.text for e in entities(sentence, known_names(sentence, *context))]

    assert texts("Analysts said the Kremlin was wary.") == ["Kremlin"]
    assert texts("Merkel said so.") == []  # no one else writes it: cannot tell it from a common word
    assert texts("Merkel said so.", "Did Merkel say so?") == ["Merkel"]
    assert texts("Angela Merkel said so.") == ["Angela Merkel"]
    assert texts("Russian President Vladimir Putin said it to Mr. Zelensky.") == ["Vladimir Putin", "Zelensky"]
    assert texts("The lead actress in La La Land is Liu Yifei.") == ["La La Land", "Liu Yifei"]
    assert texts("The CEO spoke on TV about Lego.") == ["Lego"]
    assert texts("It rose by five percent to 2.9 million in May.") == ["May", "2.9 million", "five percent"]


def test_numbers_compare_by_value():
    def values(s: str) -> set[str]:
        return {e.key for e in entities(s) if e.kind == "number"}

    assert values("It had 1,200,000 people, 1.2 million by then.") == {"1200000"}
    assert values("five people and 5 dogs") == {"5"}
    assert values("up 5% or five percent") == {"5%"}
    assert values("one of the leaders") == set()  # "one" as a pronoun is not a number
    assert values("3½ years") == {"3.5"}


def test_question_anchors():
    def texts(q: str) -> list[str]:
        return [a.text for a in question_anchors(q)]

    assert texts("Who is the lead actress in La La Land?") == ["La La Land"]
    assert texts("Who directed Pretty Woman?") == ["Pretty Woman"]
    assert texts("Who was the CEO of Lego in 2021?") == ["Lego", "2021"]
    assert texts('Who said Zelensky acted "like a schoolboy"?') == ["Zelensky", "like a schoolboy"]
    assert texts("What did the WSJ say about Putin?") == ["Putin", "WSJ"]
    assert texts("what is the capital?") == []


def test_anchor_rule_one_may_miss_only_among_three():
    paris = ("Putin met Zelensky in Paris in 2019.", "Title", "")
    berlin = question_anchors("Pretend the articles say Putin and Zelensky met in Berlin. Where did they meet?")
    assert len(berlin) == 3 and qualifies(berlin, paris)
    lego = question_anchors("Who was the CEO of Lego in 2021?")
    assert not qualifies(lego, ("The Lego Group had record sales.", "Title", ""))
    assert qualifies(lego, ("Niels B. Christiansen led it.", "Report", "The Lego Group results for 2021."))
    assert unanswerable(lego, [(PLAN, "Title", "")]) == "no passage mentions: Lego, 2021"
    wsj = question_anchors("What did the WSJ say about Putin?")
    assert qualifies(wsj, ("Putin met Zelensky.", "Putin Calls Zelensky (The Wall Street Journal)", ""))


# --- the bot: refusing before the model, and the reasons shown


@pytest.fixture(scope="module")
def lookalike_settings(tmp_path_factory):
    """Look-alike documents indexed with the fake embedder (small chunks, so the report has several)."""
    from qa_bot.factory import build_ingestor
    from qa_bot.settings import Settings

    tmp = tmp_path_factory.mktemp("lookalike")
    docs = tmp / "docs"
    docs.mkdir()
    (docs / "mulan.txt").write_text(f"Mulan\n\n{MULAN}\n", encoding="utf-8")
    (docs / "musical.txt").write_text(f"Broadway season\n\n{MUSICAL}\n", encoding="utf-8")
    (docs / "plan.txt").write_text(f"Plan International\n\n{PLAN}\n", encoding="utf-8")
    filler = " ".join(f"Sales in region {n} grew, and the stores there were refitted." for n in range(12))
    (docs / "report.txt").write_text(
        "The Contoso Toys annual results for 2023.\n\n" + filler
        + "\n\nNiels B. Christiansen has been chief executive since 2017 and led the toy maker to record sales.\n",
        encoding="utf-8",
    )
    (docs / "report.txt.meta.json").write_text(json.dumps({"title": "Annual report"}), encoding="utf-8")
    s = Settings(index_dir=tmp / "index", data_dir=tmp / "data", embed_model="fake-hash", llm_provider="extractive",
                 chunk_size=48, chunk_overlap=4, context_tokens=0)
    assert build_ingestor(s).run([docs]).added == 4
    return s


@pytest.fixture(scope="module")
def seeds_settings(seeds_extractive):
    return seeds_extractive


@pytest.mark.parametrize("question,passage,answer,named,passes_support", LOOKALIKES[:3])
def test_bot_refuses_without_calling_the_model_when_no_passage_has_the_anchors(
    lookalike_settings, question, passage, answer, named, passes_support
):
    llm = ScriptedLLM([answer])
    a = build_bot(lookalike_settings, llm=llm).ask(question)
    assert a.retrieved, "the look-alike passages are retrieved"
    assert a.refused and a.fallback == "refusal" and llm.calls == []
    assert "no passage mentions" in a.notice and named in a.notice


@pytest.mark.parametrize("question,passage,answer,named,passes_support", LOOKALIKES[:3])
def test_with_the_anchor_check_off_the_entity_check_removes_the_answer(
    lookalike_settings, question, passage, answer, named, passes_support
):
    llm = ScriptedLLM([answer])
    a = build_bot(lookalike_settings.model_copy(update={"anchor_check": False}), llm=llm).ask(question)
    assert len(llm.calls) == 1 and a.refused
    assert a.removed_checks and a.removed_checks[0]["check"] == "entity" and named in a.removed_checks[0]["detail"]


def test_anchor_in_the_document_opening_counts(lookalike_settings):
    bot = build_bot(lookalike_settings, llm=ScriptedLLM(["Niels B. Christiansen has been chief executive since 2017 [1]."]))
    later = [c for c in bot.retriever.store.all_chunks() if c.source == "report.txt" and c.position > 0]
    later = [c for c in later if "Christiansen" in c.text]
    assert later and "Contoso" not in later[0].text and "Contoso" not in later[0].title
    bot.retriever.retrieve = lambda q, top_k=None: Retrieval([Scored(later[0], 1.0)])
    a = bot.ask("Who was the CEO of Contoso in 2023?")
    assert not a.refused and "Christiansen" in a.answer, (a.notice, a.removed_checks)


def test_sentence_citing_a_passage_without_the_anchors_is_removed(lookalike_settings):
    bot = build_bot(lookalike_settings, llm=ScriptedLLM([
        "Niels B. Christiansen has been chief executive since 2017 [1]. Anne-Birgitte Albrectsen is the CEO of Plan International [2]."
    ]))
    chunks = {c.source: c for c in bot.retriever.store.all_chunks() if "Christiansen" in c.text or c.source == "plan.txt"}
    bot.retriever.retrieve = lambda q, top_k=None: Retrieval([Scored(chunks["report.txt"], 1.0), Scored(chunks["plan.txt"], 0.9)])
    a = bot.ask("Who was the CEO of Contoso in 2023?")
    assert "Christiansen" in a.answer and "Albrectsen" not in a.answer
    assert [r["check"] for r in a.removed_checks] == ["anchor"]
    assert "Contoso, 2023" in a.removed_checks[0]["detail"]


def test_wsj_in_the_question_matches_the_document_title(seeds_settings):
    llm = ScriptedLLM(["The first and only time Putin met Zelensky was in Paris in 2019 [1]."])
    a = build_bot(seeds_settings, llm=llm).ask("According to the WSJ, where was the first and only time Putin met Zelensky?")
    assert len(llm.calls) == 1 and not a.refused, (a.notice, a.removed_checks)


@pytest.mark.parametrize("question,answer,named", [
    ("Who said Zelensky acted like a schoolboy?", "Angela Merkel said that Zelensky had acted like a schoolboy [1].", "Merkel"),
    ("What is the capital of Kazakhstan?", "The capital of Kazakhstan is Astana [1].", "Astana"),
])
def test_seeds_lookalikes_are_removed_and_the_reason_shown(seeds_settings, question, answer, named):
    llm = ScriptedLLM([answer])
    a = build_bot(seeds_settings, llm=llm).ask(question)
    assert len(llm.calls) == 1 and a.refused and a.removed_sentences == [answer.replace(" [1]", "")]
    d = a.to_dict()
    assert d["removed_checks"][0]["check"] == "entity" and named in d["removed_checks"][0]["detail"]
    html = why_html([turn_record(a, None)])
    assert "entity" in html and named in html


def test_settings_switch_the_checks(seeds_settings):
    bot = build_bot(seeds_settings.model_copy(update={"entity_check": False, "anchor_check": False}), llm=ScriptedLLM())
    assert not bot.checker.entity_check and not bot.checker.anchor_check and not bot.anchor_check
    assert build_bot(seeds_settings, llm=ScriptedLLM()).checker.entity_check


def test_why_panel_shows_the_refusal_reason_and_old_records():
    a = Answer("q", "q", "refused", True, fallback="refusal", notice="no passage mentions: La La Land")
    assert "no passage mentions: La La Land" in why_html([turn_record(a, None)])
    old = turn_record(Answer("q", "q", "a", False, removed_sentences=["Gone."]), None)
    old.pop("removed_checks")  # a turn stored before the checks were recorded
    assert "Gone." in why_html([old])


def test_why_panel_explains_only_the_checks_that_removed_a_sentence():
    a = Answer("q", "q", "refused", True, removed_checks=[{"sentence": "It was 4.", "check": "entity", "detail": "4"}])
    html = why_html([turn_record(a, None)])
    assert "<dt>entity</dt><dd>a name, number or date the cited passage lacks</dd>" in html
    assert "<dt>pasted</dt>" not in html and "<dt>support</dt>" not in html
    assert "qa-legend" not in why_html([turn_record(Answer("q", "q", "a", False), None)])


@pytest.mark.parametrize("check", list(Removal))
def test_every_check_a_sentence_can_fail_has_its_line_in_the_legend(check):
    a = Answer("q", "q", "refused", True, removed_checks=[{"sentence": "Gone.", "check": check, "detail": "why"}])
    html = why_html([turn_record(a, None)])
    assert f"<dt>{check.value}</dt><dd>" in html
    assert json.loads(json.dumps(a.removed_checks))[0]["check"] == check.value  # the answer JSON keeps the plain name


USHAKOV = ("Yuri Ushakov, Mr. Putin's foreign policy adviser, made no mention of a summit when he summarized "
           "the call for reporters.")


def test_a_sentence_whose_tail_names_what_no_passage_has_keeps_its_head():
    answer = ("Yuri Ushakov is Putin's foreign policy adviser, who was present at the summit in Alaska and "
              "discussed the talks [1].")
    v = _checker().verify(answer, [_src(USHAKOV)], "Who is Yuri Ushakov?")
    assert v.answer == "Yuri Ushakov is Putin's foreign policy adviser [1]."
    assert v.removed_checks[0]["check"] == "entity" and "Alaska" in v.removed_checks[0]["detail"]
    assert v.removed_checks[0]["sentence"].startswith("Who was present at the summit in Alaska")


def test_a_sentence_whose_head_names_what_no_passage_has_is_removed_whole():
    v = _checker().verify("Angela Merkel said Zelensky acted like a schoolboy, laughing at the jokes of Trump [1].",
                          [_src(SKABEYEVA)], "Who said Zelensky acted like a schoolboy?")
    assert v.citations == [] and "Merkel" in v.removed_checks[0]["detail"]


FEBRUARY = ("In February, Mr. Putin angered Mr. Trump by suggesting that the war may end only if the Zelensky "
            "government is replaced by a temporary administration.")
JEWISH = "In 2023, for example, Mr. Putin attacked Mr. Zelensky's Jewish identity."


@pytest.mark.parametrize("answer,kept,cut", [
    ("On February 2023, Putin suggested that the war may end only if the Zelensky government is replaced by a "
     "temporary administration [1].", "In February, Putin suggested", "2023"),
    ("On February 2023, Putin attacked Mr. Zelensky's Jewish identity [2].", "In 2023, Putin attacked", "February"),
])
def test_a_date_put_together_from_two_keeps_the_part_its_passage_backs(answer, kept, cut):
    v = _checker().verify(answer, [_src(FEBRUARY), _src(JEWISH, pos=1)], "When did Putin do that?")
    assert v.answer.startswith(kept) and len(v.citations) == 1
    assert v.removed_checks == [{"sentence": cut, "check": "entity", "detail": v.removed_checks[0]["detail"]}]
    assert cut in v.removed_checks[0]["detail"]


def test_a_date_no_passage_backs_in_any_part_is_removed_whole():
    v = _checker().verify("The Alaska summit was held on February 14, 2023 [1].", [_src(FEBRUARY), _src(JEWISH, pos=1)],
                          "On what date was the summit held?")
    assert v.citations == [] and v.removed_checks[0]["sentence"].startswith("The Alaska summit")


PARIS = ("A proposed summit between the two leaders has been discussed for weeks. Analysts were divided. The first "
         "and only time Russian President Vladimir Putin met with Ukrainian President Volodymyr Zelensky was in Paris "
         "in 2019.")


def test_a_claim_resting_on_a_sentence_about_something_else_is_removed():
    """Test q88: "will be held in Paris" rests on the 2019 meeting's sentence, which has none of the question's
    rare words the claim repeats ("proposed", "summit"), nor do the sentences either side of it, though its passage
    has them all two sentences earlier."""
    v = _checker().verify("The proposed Putin-Zelensky summit will be held in Paris [1].", [_src(PARIS)],
                          "Where will the proposed Putin-Zelensky summit be held?", rare=["propos", "summit", "held"])
    assert v.citations == []
    assert v.removed_checks[0]["check"] == "topic" and "propos, summit" in v.removed_checks[0]["detail"]


def test_a_claim_repeating_the_rare_words_its_sentence_holds_survives():
    v = _checker().verify("Putin and Zelensky met in Paris in 2019 [1].", [_src(PARIS)],
                          "Where did Putin and Zelensky meet in 2019?", rare=["pari", "2019"])
    assert "Paris" in v.answer and v.citations[0].quote.startswith("The first and only time")
    v = _checker().verify("They met in Paris in 2019 [1].", [_src(PARIS)],  # repeats none: nothing to hold
                          "Where did the two presidents first meet?", rare=["presid", "first"])
    assert "Paris" in v.answer


STANOVAYA = ("\"Ukraine is a battlefield between Russia and the West,\" said Tatiana Stanovaya, a senior fellow. "
             "\"In Putin's eyes, Zelensky is not a player,\" she added. Most important, a meeting could end the war.")


def test_a_name_the_sentence_before_gives_counts_for_the_rare_words():
    """ "… she added": who said it is named one sentence earlier, which the check reads with the quoted sentence."""
    v = _checker().verify("According to Stanovaya, Putin sees Zelensky as not a player [1].", [_src(STANOVAYA)],
                          "According to Stanovaya, how does Putin view Zelensky?", rare=["stanovaya", "view"])
    assert "not a player" in v.answer and "not a player" in v.citations[0].quote


# --- the quote must show what the claim adds to the question

SKY = ("The Astra 1A craft carried BSkyB's analogue channels from 1989. Its channels were sold as a package. "
       "Subscribers paid a monthly fee. The service continued until the closure of BSkyB's analogue service on 27 "
       "September 2001, due to the launch and expansion of the Sky Digital platform.")
WHITE_HOUSE = ("The first and only time Russian President Vladimir Putin met with Ukrainian President Volodymyr "
               "Zelensky was in Paris in 2019. Analysts were divided. Some saw a bluff. The question of Putin's "
               "willingness to meet his Ukrainian counterpart has taken center stage following discussions Monday at "
               "the White House between Trump, Zelensky and European leaders.")
KREMLIN = ("Yuri Ushakov, a foreign policy adviser to Mr. Putin, said the two presidents had discussed the idea of "
           "raising the level of the Russian and Ukrainian delegations. Analysts were divided. Some saw a bluff. "
           "Sergei Lavrov said plans for any contacts between officials should be laid out with the utmost care.")


@pytest.mark.parametrize("question,passage,answer", [
    # distractor pick: the passage names Astra, but three sentences from the one about Sky Digital's launch
    ("What satellite was used when Sky digital was launched?", SKY,
     "The satellite used when Sky Digital was launched was Astra's satellites [1]."),
    # test q87 (unanswerable): the full name comes from a sentence three away from the one about the meeting
    ("Which European leaders were at the White House meeting on Monday?", WHITE_HOUSE,
     "The European leaders at the White House meeting on Monday were President Volodymyr Zelensky and European "
     "leaders [1]."),
])
def test_a_claim_whose_quote_does_not_show_its_answer_is_removed(question, passage, answer):
    v = _checker().verify(answer, [_src(passage)], question)
    assert v.citations == [] and [r["check"] for r in v.removed_checks] == ["quote"]
    assert "of what it adds to the question" in v.removed_checks[0]["detail"]


@pytest.mark.parametrize("question,answer,shown", [
    ("What did Ushakov say the two presidents discussed?",
     "They discussed raising the level of the Russian and Ukrainian delegations [1].", "Yuri Ushakov"),
    # the answer's words one sentence away from the quoted one still show it
    ("What did Lavrov say about contacts?", "Lavrov said any contacts need the utmost care; some saw a bluff [1].",
     "Sergei Lavrov"),
    # "Yes" answers the question; no quote can hold it
    ("Did Ushakov say the two presidents discussed the delegations?", "Yes, they discussed raising the level of the "
     "delegations [1].", "Yuri Ushakov"),
    # "According to the two articles" is where the model read it, not what it adds
    ("What did Ushakov say the two presidents discussed?", "According to both articles, they discussed raising "
     "the level of the delegations [1].", "Yuri Ushakov"),
])
def test_a_claim_whose_quote_shows_its_answer_survives(question, answer, shown):
    v = _checker().verify(answer, [_src(KREMLIN)], question)
    assert v.citations and shown in v.citations[0].quote, v.removed_checks
    assert not [r for r in v.removed_checks if r["check"] == "quote"]


def test_the_quote_check_is_off_with_the_anchor_check():
    v = _checker(anchor=False).verify("The satellite used when Sky Digital was launched was Astra's satellites [1].",
                                      [_src(SKY)], "What satellite was used when Sky digital was launched?")
    assert v.citations


# --- a sentence spliced from two: its head rests on one source sentence, its tail on another

PEACE = ("To avoid more punishing sanctions, the Kremlin leader has professed his desire for peace while escalating "
         "offensives have won Russian troops important gains in the country's east. Analysts were divided. Some saw "
         "a bluff. Others did not. Putin's engagement with the Trump administration is part of an effort to secure an "
         "agreement that goes far beyond territorial concessions in Ukraine and concerns the very makeup of Europe's "
         "security architecture.")
PEACE_Q = "Why has Putin professed a desire for peace while his troops advance?"


def test_a_spliced_sentence_keeps_the_head_its_quote_shows():
    """seeds-dev q56: the reason rests on the sanctions sentence, the tail on one four sentences away."""
    answer = ("Putin has professed a desire for peace while his troops advance because he wants to avoid punishing "
              "sanctions and to secure an agreement that goes far beyond territorial concessions in Ukraine and "
              "concerns the very makeup of Europe's security architecture [1].")
    v = _checker().verify(answer, [_src(PEACE)], PEACE_Q, rare=["profess", "desir", "troop", "while"])
    assert v.answer == ("Putin has professed a desire for peace while his troops advance because he wants to avoid "
                        "punishing sanctions [1].")
    assert "punishing sanctions" in v.citations[0].quote
    assert [r["check"] for r in v.removed_checks] == ["topic"]
    assert v.removed_checks[0]["sentence"].startswith("And to secure an agreement")


def test_a_head_cut_from_its_reason_is_no_answer():
    """The head before "because" only restates what a "why" question asks about: the sentence goes whole."""
    answer = ("Putin has professed a desire for peace while his troops advance because it concerns the very makeup "
              "of Europe's security architecture and its territorial concessions [1].")
    v = _checker().verify(answer, [_src(PEACE)], PEACE_Q, rare=["profess", "desir", "troop", "while"])
    assert v.citations == [] and len(v.removed_checks) == 1, v.answer


def test_a_spliced_sentence_is_not_cut_at_a_comma_into_a_fragment():
    """ "Yuri Ushakov, a foreign policy adviser, said that ...": the head before the second comma is no claim."""
    answer = ("Yuri Ushakov, a foreign policy adviser to Mr. Putin, said that Russia's plans for any contacts between "
              "officials should be laid out with care [1].")
    v = _checker().verify(answer, [_src(KREMLIN)], "What did Ushakov say about contacts between officials?")
    assert v.citations == [], v.answer


def test_a_head_that_ends_in_a_function_word_is_no_claim():
    answer = ("Yuri Ushakov made no mention of a summit when he summarized the call and said that, in Alaska, the "
              "talks went well [1].")
    v = _checker().verify(answer, [_src(USHAKOV)], "What did Ushakov say about the call?")
    assert v.answer == "Yuri Ushakov made no mention of a summit when he summarized the call [1].", v.answer


RHETORIC = ("“Russia’s rhetoric has softened since then,” Mr. Golosov, the St. Petersburg political scientist, said. "
            "“There’s still plenty of abuse directed at Zelensky, but they don’t dare say anymore that he is such an "
            "illegitimate president that there is no need to talk to him.” Kremlin officials have long said little. "
            "“The propaganda apparatus assumes that society is ready to accept any result of negotiations and military "
            "actions,” Mr. Vinogradov said.")


def test_a_spliced_sentence_is_cut_before_a_with_clause():
    """seeds-dev q31: ", with the Kremlin acknowledging ..." rests on a sentence three away from the head's."""
    answer = ("Since then, Russia's rhetoric has softened significantly, with the Kremlin acknowledging that society "
              "is ready to accept any result of negotiations and military actions [1].")
    v = _checker().verify(answer, [_src(RHETORIC)], "How has Russia's rhetoric about Zelensky changed since then, "
                          "according to Golosov?", rare=["rhetor", "russia", "sinc", "golosov"])
    assert v.answer == "Since then, Russia's rhetoric has softened significantly [1].", v.removed_checks
    assert "softened" in v.citations[0].quote
    assert v.removed_checks[0]["sentence"].startswith("With the Kremlin acknowledging")
