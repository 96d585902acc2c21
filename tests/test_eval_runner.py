"""The eval harness end to end with the fake embedder and the extractive backend."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa_bot.errors import QaBotError
from qa_bot.evaluation.dataset import DatasetError, episodes, limit_episodes, load_dataset
from qa_bot.evaluation.runner import check_gates, drop_tolerance, run_eval

ROOT = Path(__file__).resolve().parent.parent
WSJ = "001_3eefea4748145b2b.txt"
NYT = "000_8e1ffe6059112ee0.txt"

TINY = [
    {"id": "t1", "question": "What does Russian state television call Zelensky?", "must_include": [["clown"]],
     "doc": NYT, "reference": "a clown", "category": "name"},
    {"id": "t2", "question": "What is the population of the Mars colonies in 2050?", "answerable": False},
    {"id": "c1b", "conversation": "c1", "turn": 2, "question": "What did he call a possible meeting?",
     "must_include": [["compromise"]]},
    {"id": "c1a", "conversation": "c1", "turn": 1, "question": "Who is Konstantin Zatulin?",
     "must_include": [["lawmaker"]], "evidence": "Konstantin Zatulin, a senior Russian lawmaker"},
    {"id": "t3", "question": "\x01", "answerable": True},  # cleaned to empty by the bot: an error row
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def eval_dir(tmp_path) -> Path:
    """A private copy of eval/suites.toml (so baselines written by tests never touch the repo)."""
    d = tmp_path / "evalcfg" / "eval"
    d.mkdir(parents=True)
    shutil.copy(ROOT / "eval" / "suites.toml", d / "suites.toml")
    return d


def run(settings, tmp_path, eval_dir, rows=TINY, name="tiny", **kw):
    lines: list[str] = []
    ds = write_jsonl(tmp_path / f"{name}.jsonl", rows)
    out = tmp_path / f"out-{name}"
    ok = run_eval(settings, kw.pop("suites", []), ds, kw.pop("limit", None), out, echo=lines.append,
                  eval_dir=eval_dir, **kw)
    return ok, out, "\n".join(lines)


# --- datasets

def test_dataset_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok?"}\n\n{"question": "x",\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.jsonl:3: invalid JSON"):
        load_dataset(bad)
    bad.write_text('{"question": "ok?"}\n{"id": "q2", "answer": "no question"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.jsonl:2: missing `question`"):
        load_dataset(bad)


def test_dataset_conversations_run_in_turn_order_and_limit(tmp_path):
    items = load_dataset(write_jsonl(tmp_path / "d.jsonl", TINY))
    eps = episodes(items)
    assert [[i.id for i in ep] for ep in eps] == [["t1"], ["t2"], ["c1a", "c1b"], ["t3"]]
    assert items[0].must_include == [["clown"]] and items[0].golds == ["a clown"] and items[0].docs == [NYT]
    assert [[i.id for i in ep] for ep in limit_episodes(eps, 3)] == [["t1"], ["t2"], ["c1a"]]


# --- end to end

def test_dataset_run_writes_every_output(seeds_index_fake, tmp_path, eval_dir):
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir)
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["t1", "t2", "c1a", "c1b", "t3"]
    t1 = rows[0]
    assert t1["refused"] is False and "clown" in t1["answer"].lower() and t1["citations"]
    assert t1["eval"]["correct"] is True and t1["eval"]["citations_valid"] is True and t1["eval"]["hit"] == 1.0
    assert rows[1]["eval"]["abstain_ok"] is True  # the Mars question is refused
    assert rows[3]["conversation"] == "c1" and rows[3]["turn"] == 2
    assert rows[4]["eval"]["error"] and rows[4]["eval"]["passed"] is False

    summary = json.loads((out / "summary.json").read_text())
    m = summary["metrics"]
    assert m["questions"] == 5 and m["errors"] == 1 and m["citation_validity"] < 1.0
    assert summary["model"] == "extractive" and summary["k"] == seeds_index_fake.top_k
    # the error breaks the default max_errors = 0 gate, and the log names it
    assert ok is False and "GATE FAILED [tiny] errors 1 > max 0" in log

    report = (out / "report.md").read_text()
    assert "| correctness |" in report and "No baseline" in report and "## Failures" in report
    assert "#### t3" in report and "## By category" in report and "### Category `name`" not in report
    t2 = report.index("#### t3")
    assert "- expected: an answer" in report[t2:]
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_dataset_never_seen_before(seeds_index_fake, tmp_path, eval_dir):
    """Foreign field names, no ids: still runs; with nothing to check answers by, the correctness gate fails
    and says why, rather than passing on a metric it could not measure."""
    foreign = [
        {"question": "Where did Putin and Zelensky meet in 2019?", "reference": "Paris", "source_url": "x", "level": 3},
        {"question": "Who is Tatiana Stanovaya?", "doc": WSJ, "meta": {"k": [1, 2]}},
        {"question": "What is the capital of Australia?", "answerable": False},
    ]
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=foreign, name="other")
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["line1", "line2", "line3"]
    assert "f1" in rows[0]["eval"] and "hit" in rows[1]["eval"]
    m = json.loads((out / "summary.json").read_text())["metrics"]
    assert m["correctness"] is None and m["citation_validity"] == 1.0
    assert ok is False
    assert "GATE FAILED [other] correctness: could not be measured (no answerable question carries must_include" in log

    checked = [dict(foreign[0], must_include=[["Paris"]]), dict(foreign[1], must_include=[["Carnegie"]]), foreign[2]]
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=checked, name="checked")
    gates = {g["name"]: g for g in json.loads((out / "summary.json").read_text())["gates"]}
    assert {"correctness", "refused_rate", "answered_rate", "independent_support"} <= set(gates)


def test_refusal_gate_not_applied_without_unanswerable_questions(seeds_index_fake, tmp_path, eval_dir):
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=TINY[:1], name="one")
    gates = {g["name"]: g for g in json.loads((out / "summary.json").read_text())["gates"]}
    assert gates["refused_rate"]["ok"] and "not applied, no unanswerable questions" in gates["refused_rate"]["detail"]
    assert ok is True


def test_junit_has_a_case_per_question_and_gate(seeds_index_fake, tmp_path, eval_dir):
    import xml.etree.ElementTree as ET

    junit = tmp_path / "junit.xml"
    rows = [dict(TINY[0], must_include=[["no such words"]]), *TINY[1:4]]
    ok, _, _ = run(seeds_index_fake, tmp_path, eval_dir, rows=rows, junit=junit)
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "tiny"
    cases = suite.findall("testcase")
    questions = [c for c in cases if not c.get("classname", "").endswith(".gates")]
    assert [c.get("name", "").split(":")[0] for c in questions] == ["t1", "t2", "c1a", "c1b"]
    failure = questions[0].find("failure")
    assert failure is not None and failure.get("message") == "wrong answer"
    assert "answer:" in (failure.text or "") and 'missing "no such words"' in (failure.text or "")
    assert "evidence:" not in (failure.text or "")
    assert any(c.find("failure") is not None for c in cases if c.get("name") == "correctness") or ok


def test_baseline_update_then_drop_gate_and_flips(seeds_index_fake, tmp_path, eval_dir):
    ok, _, log = run(seeds_index_fake, tmp_path, eval_dir, rows=TINY[:4], update_baseline=True)
    assert ok is True and "baseline written" in log
    baseline = json.loads((eval_dir / "baseline.json").read_text())
    entry = baseline["suites"]["tiny"]["extractive"]  # one baseline per suite and model
    assert set(entry["questions"]) == {"t1", "t2", "c1a", "c1b"}
    assert entry["metrics"]["citation_validity"] == 1.0

    # pretend the baseline was better: t1 passed there and fails now, and pass_rate was perfect
    rows = [dict(TINY[0], must_include=[["no such words"]]), *TINY[1:4]]
    entry["metrics"]["pass_rate"] = 1.0
    (eval_dir / "baseline.json").write_text(json.dumps(baseline))
    # four questions: the default two-question noise allowance would hide the drop
    cfg = (eval_dir / "suites.toml").read_text().replace("[default]\n", "[default]\nnoise_items = 0\n")
    (eval_dir / "suites.toml").write_text(cfg)
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=rows)
    assert ok is False
    now = json.loads((out / "summary.json").read_text())["metrics"]["pass_rate"]
    assert f"GATE FAILED [tiny] pass_rate dropped 1 -> {now:g} (tolerance 0.05)" in log
    assert "GATE FAILED [tiny] correctness dropped" in log  # t1 no longer finds its words
    report = (out / "report.md").read_text()
    assert "now failing: t1" in report and f"| pass_rate | {now:.3f} | 1.000 | {now - 1:.3f} |" in report


def test_limit_compares_the_same_questions_and_never_updates_the_baseline(seeds_index_fake, tmp_path, eval_dir):
    base = {"suites": {"tiny": {"extractive": {"metrics": {"pass_rate": 0.5}, "questions": {"t1": True, "t2": False}}}}}
    (eval_dir / "baseline.json").write_text(json.dumps(base))
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=TINY[:4], limit=1, update_baseline=True)
    assert ok is True and "not updating the baseline" in log
    assert json.loads((out / "summary.json").read_text())["metrics"]["questions"] == 1
    assert "pass_rate on the baseline's 1 same questions kept 1 -> 1" in (out / "report.md").read_text()
    # the same id now failing is a drop the gate catches, whatever the suite-wide figures were
    cfg = (eval_dir / "suites.toml").read_text().replace("[default]\n", "[default]\nnoise_items = 0\n")
    (eval_dir / "suites.toml").write_text(cfg)
    rows = [dict(TINY[0], must_include=[["no such words"]]), *TINY[1:4]]
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=rows, limit=1)
    assert ok is False and "pass_rate on the baseline's 1 same questions dropped 1 -> 0" in log


def test_other_model_gets_no_drop_gate_but_says_so(seeds_index_fake, tmp_path, eval_dir):
    base = {"suites": {"tiny": {"another-model": {"metrics": {"pass_rate": 1.0}, "questions": {"t1": True}}}}}
    (eval_dir / "baseline.json").write_text(json.dumps(base))
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=TINY[:2])
    gates = json.loads((out / "summary.json").read_text())["gates"]
    assert any("no baseline for model extractive" in g["detail"] for g in gates)


def test_seeds_suite_ingests_an_empty_index(settings_fake, tmp_path):
    lines: list[str] = []
    run_eval(settings_fake, ["seeds"], None, 6, tmp_path / "out", echo=lines.append, eval_dir=ROOT / "eval")
    assert (settings_fake.index_dir / "manifest.json").is_file()
    assert sum("is empty: ingesting" in line for line in lines) == 1  # dev and test share the index
    for split in ("seeds-dev", "seeds-test"):  # the group runs both halves
        assert len((tmp_path / "out" / split / "results.jsonl").read_text().splitlines()) == 6


def test_unknown_suite_is_an_error(settings_fake, tmp_path, eval_dir):
    with pytest.raises(QaBotError, match="unknown suite 'nope'"):
        run_eval(settings_fake, ["nope"], None, None, tmp_path / "o", echo=lambda s: None, eval_dir=eval_dir)


def test_squad2_skipped_when_data_absent(settings_fake, tmp_path, eval_dir):
    lines: list[str] = []
    s = settings_fake.model_copy(update={"benchmarks": tmp_path / "nothing"})
    assert run_eval(s, ["squad2"], None, 5, tmp_path / "o", echo=lines.append, eval_dir=eval_dir) is True
    assert any("[squad2] skipped" in line and "not found" in line for line in lines)


def test_cli_eval_on_a_dataset(seeds_index_fake, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from qa_bot.cli import main

    monkeypatch.setenv("QA_BOT_EMBED_MODEL", "fake-hash")
    monkeypatch.setenv("QA_BOT_DATA_DIR", str(seeds_index_fake.data_dir))
    ds = write_jsonl(tmp_path / "cli.jsonl", TINY[:2])
    out = tmp_path / "cli-out"
    res = CliRunner().invoke(main, ["eval", "--dataset", str(ds), "--out", str(out), "--llm", "extractive",
                                    "--index", str(seeds_index_fake.index_dir)])
    assert res.exit_code == 0, res.output
    assert "[cli] passed" in res.output and (out / "summary.json").is_file()
    # exit status 1: a gate failed; 2: a usage or setup error
    wrong = write_jsonl(tmp_path / "wrong.jsonl", [dict(TINY[0], must_include=[["no such words"]])])
    args = ["--out", str(out), "--llm", "extractive", "--index", str(seeds_index_fake.index_dir)]
    assert CliRunner().invoke(main, ["eval", "--dataset", str(wrong), *args]).exit_code == 1
    assert CliRunner().invoke(main, ["eval", "--suite", "nope", *args]).exit_code == 2


def test_none_metric_gate_fails_with_a_reason():
    m = {"questions": 3, "answerable": 2, "unanswerable": 1, "correctness": None, "hit_at_k": None}
    gates = check_gates(m, {"thresholds": {"min_correctness": 0.5, "min_hit_at_k": 0.5}}, None, "m", [], None)
    bad = {g["name"]: g["detail"] for g in gates if not g["ok"]}
    assert set(bad) == {"correctness", "hit_at_k"} and "no question names its evidence" in bad["hit_at_k"]


@pytest.mark.slow
def test_squad2_limit(settings_fake, tmp_path, eval_dir):
    """Indexes the 411 paragraphs (about 30 s with the fake embedder), asks 5 questions."""
    data = Path(settings_fake.benchmarks)
    if not data.is_absolute():
        data = ROOT / data
    if not (data / "squad2" / "queries.json").is_file():
        pytest.skip("SQuAD 2.0 sample not present")
    s = settings_fake.model_copy(update={"benchmarks": data})
    lines: list[str] = []
    run_eval(s, ["squad2"], None, 5, tmp_path / "o", echo=lines.append, eval_dir=eval_dir)
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["metrics"]["questions"] == 5 and summary["metrics"]["citation_validity"] == 1.0
    assert summary["metrics"]["hit_at_k"] is not None and summary["metrics"]["f1"] is not None
    assert len(list((Path(s.data_dir) / "squad2-corpus").glob("*.txt"))) == 411


def test_drop_tolerance_allows_run_to_run_noise_but_not_a_regression():
    m = {"questions": 125, "answerable": 106, "unanswerable": 19}
    cfg = {"tolerance": 0.05}
    assert drop_tolerance("refused_rate", m, cfg) == pytest.approx(2 / 19)  # two flips of 19
    assert drop_tolerance("correctness", m, cfg) == 0.05  # 2/106 is below the tolerance
    assert drop_tolerance("pass_rate", m, {"tolerance": 0.01}) == pytest.approx(2 / 125)
    assert drop_tolerance("refused_rate", m, {"tolerance": 0.05, "noise_items": 0}) == 0.05
    base = {"metrics": {"refused_rate": 0.6842, "correctness": 0.65}}
    one_flip = check_gates({**m, "refused_rate": 0.6316, "correctness": 0.65}, cfg, base, "m", [], None)
    assert all(g["ok"] for g in one_flip)
    three_flips = check_gates({**m, "refused_rate": 0.5263, "correctness": 0.59}, cfg, base, "m", [], None)
    assert {g["name"] for g in three_flips if not g["ok"]} == {"refused_rate", "correctness"}


def test_judge_verdicts_and_report_only_metric(seeds_index_fake, tmp_path, eval_dir, monkeypatch):
    from qa_bot.evaluation.judge import Judge, parse_verdict
    from qa_bot.evaluation.runner import Runner
    from qa_bot.fakes import ScriptedLLM

    assert parse_verdict("YES") == 1.0 and parse_verdict(" no, the answer adds a date") == 0.0
    assert parse_verdict("Yes.") == 1.0 and parse_verdict("maybe") is None and parse_verdict("") is None
    judge_llm = ScriptedLLM(["YES", "NO"])
    monkeypatch.setattr(Runner, "judge", lambda self: Judge(judge_llm))
    ok, out, log = run(seeds_index_fake, tmp_path, eval_dir, rows=TINY[:4])
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    judged = [r["eval"].get("judge") for r in rows if not r["refused"]]
    assert judged == [1.0, 0.0, None][: len(judged)] and len(judged) >= 2  # the third reply is neither word
    assert all("judge" not in r["eval"] or r["eval"]["judge"] is None for r in rows if r["refused"])
    prompt = judge_llm.calls[0][0]["content"]
    assert rows[0]["answer"] in prompt and rows[0]["citations"][0]["quote"] in prompt
    m = json.loads((out / "summary.json").read_text())["metrics"]
    assert m["judge_faithfulness"] == 0.5
    assert ok is True  # report-only: a NO never fails the run


def test_no_judge_by_default(settings_fake):
    from qa_bot.evaluation.runner import Runner

    assert Runner(settings_fake, ROOT / "eval", print).judge() is None


def test_distractor_split_removes_the_gold_paragraphs_and_keeps_look_alikes(tmp_path):
    from qa_bot.evaluation.dataset import Item
    from qa_bot.evaluation.squad2 import distractor_split, write_corpus

    paragraphs = {f"p{i}.txt": f"paragraph {i}" for i in range(6)}
    items = [Item(id=f"q{i}", question=f"q{i}?", answers=["x"], docs=[f"p{i % 4}.txt"]) for i in range(8)]
    items.append(Item(id="u", question="u?", answerable=False, docs=["p5.txt"]))
    removed, corpus = distractor_split(items, paragraphs, 3, removed=True)
    kept, full = distractor_split(items, paragraphs, 3, removed=False)
    assert [i.id for i in removed] == [i.id for i in kept] and len(removed) == 3
    gold = {i.docs[0] for i in kept}
    assert len(gold) == 3 and not gold & set(corpus) and set(corpus) | gold == set(paragraphs)
    assert all(not i.answerable and not i.answers and i.category == "gold_removed" for i in removed)
    assert all(i.answerable and i.category == "gold_present" for i in kept) and full == paragraphs
    folder = write_corpus(full, tmp_path / "c")
    write_corpus(corpus, folder)  # the removed paragraphs' files go, so the next ingest drops them
    assert {p.name for p in folder.glob("*.txt")} == set(corpus)


def test_a_changed_pick_of_look_alike_questions_leaves_no_stale_gold_paragraph(settings_fake, tmp_path, eval_dir):
    """A suite-owned index is brought in step with its corpus every run: with a larger pick, the new
    picks' gold paragraphs leave the index too (they did not, and were cited as if look-alikes)."""
    from qa_bot.evaluation.squad2 import distractor_split, load_squad2, paragraph_name

    data = tmp_path / "bench" / "squad2"
    data.mkdir(parents=True)
    texts = [f"Paragraph {i} says the river {n} is long." for i, n in enumerate(["Rhine", "Danube", "Volga", "Elbe"])]
    queries = [{"id": f"q{i}", "question": f"Which river does paragraph {i} name?", "context": t}
               for i, t in enumerate(texts)]
    truth = {f"q{i}": {"is_impossible": False, "answers": [t.split()[5]]} for i, t in enumerate(texts)}
    (data / "queries.json").write_text(json.dumps({"queries": queries}), encoding="utf-8")
    (data / "ground_truth.json").write_text(json.dumps(truth), encoding="utf-8")
    s = settings_fake.model_copy(update={"benchmarks": tmp_path / "bench"})
    items, paragraphs = load_squad2(data)
    index_sources = {}
    for n in (1, 3):
        cfg = eval_dir / "suites.toml"
        cfg.write_text(f'[d]\nbenchmark = "squad2"\ndistractor = "removed"\nquestions = {n}\nread_ahead = false\n'
                       '[d.thresholds]\nmin_refused_rate = 0.0\n', encoding="utf-8")
        run_eval(s, ["d"], None, None, tmp_path / f"o{n}", echo=lambda _: None, eval_dir=eval_dir)
        manifest = json.loads((Path(s.data_dir) / "squad2-distractor-index" / "manifest.json").read_text())
        index_sources[n] = {Path(p).name for p in manifest["sources"]}
        picked, _ = distractor_split(items, paragraphs, n, removed=False)
        gold = {paragraph_name(p) for p in paragraphs.values()} & {i.docs[0] for i in picked}
        assert len(gold) == n and not gold & index_sources[n], n
    assert len(index_sources[1]) == 3 and len(index_sources[3]) == 1
