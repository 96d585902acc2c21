"""`qa-bot bench`: the corpus generator, the retrieval timing, the targets table; the real quick run (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa_bot.bench.corpus import is_correct, make_corpus
from qa_bot.bench.retrieval import bench_sizes
from qa_bot.bench.run import markdown, targets
from qa_bot.fakes import HashEmbedder
from qa_bot.retrieval.store import ChromaStore, make_client
from qa_bot.schema import Chunk
from qa_bot.text import split_sentences

from .test_chroma_server import chroma_server  # noqa: F401  (the fixture)

PARAGRAPHS = [
    "Apples grow in cold orchards. The harvest starts in September. Cider is pressed from the late fruit.",
    "Pears ripen off the tree. They bruise easily. Growers pick them hard and green.",
    "Quinces are hard and sour. Cooked with sugar they turn pink. Medlars are eaten half rotten.",
    "The Danube flows east. Vienna and Budapest stand on its banks. It ends in the Black Sea.",
]
INTERFACE_KEYS = {
    "ingest": ["chunks", "pipeline_chunks_per_s", "raw_encode_chunks_per_s", "ratio", "reingest_unchanged_s"],
    "generation": ["pipeline_tokens_per_s", "raw_tokens_per_s", "ratio", "first_token_p50_s", "answer_p50_s", "answer_p95_s"],
    "startup": ["cli_help_s", "first_answer_s"],
    "memory": ["peak_rss_mb"],
}
RETRIEVAL_KEYS = ["dense_p95_ms", "bm25_p95_ms", "hybrid_p50_ms", "hybrid_p95_ms",
                  "raw_dense_p95_ms", "raw_bm25_p95_ms", "raw_hybrid_p50_ms", "raw_hybrid_p95_ms"]


def test_bench_reads_squad_through_the_eval_loader(tmp_path):
    """One SQuAD reader: the bench's paragraphs are the eval's, one per distinct context."""
    from qa_bot.evaluation.squad2 import load_squad2

    (tmp_path / "squad2").mkdir()
    items = [{"id": "a", "context": "Ctx one.", "question": "Q1?"}, {"id": "b", "context": "Ctx one.", "question": "Q2?"}]
    (tmp_path / "squad2" / "queries.json").write_text(json.dumps({"task": "squad2", "queries": items}))
    (tmp_path / "squad2" / "ground_truth.json").write_text(json.dumps({"a": {"answers": ["x"]}, "b": {"is_impossible": True}}))
    got, paragraphs = load_squad2(tmp_path / "squad2")
    assert [q.question for q in got] == ["Q1?", "Q2?"]
    assert list(paragraphs.values()) == ["Ctx one."]


def test_corpus_is_recombined_real_sentences_with_unit_vectors():
    sentences = {s.strip() for p in PARAGRAPHS for s in p.replace(". ", ".\n").splitlines()}
    c = make_corpus(PARAGRAPHS, HashEmbedder(), 60, seed=1)
    assert len(c.chunks) == 60 and c.vectors.shape == (60, HashEmbedder().dim)
    assert c.base_sentences == 12 and c.base_paragraphs == 4
    assert np.allclose(np.linalg.norm(c.vectors, axis=1), 1.0, atol=1e-5)
    for ch in c.chunks:
        parts = ch.text.replace(". ", ".\n").splitlines()
        assert 2 <= len(parts) <= 6 and all(p.strip() in sentences for p in parts)
    assert len({ch.text for ch in c.chunks}) > 30, "chunks are varied, not repeats"
    assert len({ch.id for ch in c.chunks}) == 60
    # each vector is its sentences' mean plus a little noise: close to them, far from the rest
    emb = HashEmbedder()
    for ch, vec in zip(c.chunks[:10], c.vectors[:10], strict=True):
        own = emb.embed(split_sentences(ch.text)).mean(axis=0)
        assert float(vec @ own) / float(np.linalg.norm(own)) > 0.85
        assert float(vec @ emb.embed(["Vienna and Budapest stand on its banks."])[0]) < 0.85 or "Vienna" in ch.text


def test_store_query_without_count_handles_empty_and_small_collections(tmp_path):
    store = ChromaStore(make_client(tmp_path), "bench_store")
    emb = HashEmbedder()
    assert store.query(emb.embed(["apples"])[0], 5) == []
    chunks = [Chunk(f"d:{i}", "d", "d.txt", "D", t, 0, len(t), i) for i, t in enumerate(PARAGRAPHS[:2])]
    store.add(chunks, emb.embed(PARAGRAPHS[:2]))
    hits = store.query(emb.embed(["apples cold orchards harvest"])[0], 20)
    assert [c.id for c, _ in hits][0] == "d:0" and len(hits) == 2
    assert store.query(emb.embed(["x"])[0], 0) == []


def _check_rows(rows: dict, sizes: dict) -> None:
    assert set(rows) == set(sizes)
    for label, n in sizes.items():
        row = rows[label]
        assert row["chunks"] == n
        for key in RETRIEVAL_KEYS + ["hybrid_with_embed_p95_ms", "query_embed_p50_ms"]:
            assert row[key] > 0, (label, key)
        assert row["hybrid_p50_ms"] <= row["hybrid_p95_ms"]


def test_retrieval_sizes_are_timed_against_the_raw_calls(tmp_path):
    emb = HashEmbedder()
    corpus = make_corpus(PARAGRAPHS, emb, 300)
    queries = ["When does the apple harvest start?", "Where does the Danube end?", "How do medlars taste?"]
    client = make_client(tmp_path)
    sizes = {"small": 100, "large": 300}
    rows = bench_sizes(client, corpus, sizes, queries, emb.embed(queries), emb, k=10, echo=lambda *_: None)
    _check_rows(rows, sizes)
    assert "qa_bot_bench" not in [c.name for c in client.list_collections()], "the bench collection is removed"


def test_targets_mark_met_missed_and_not_measured():
    r = {
        "meta": {"quick": False},
        "ingest": {"ratio": 0.9},
        "generation": {"ratio": 0.5, "first_token_p50_s": 2.0},
        "retrieval": {"10000": {"chunks": 10000, "hybrid_p95_ms": 12.0}, "100000": {"chunks": 100000, "hybrid_p95_ms": 250.0}},
        "startup": {"cli_help_s": None},
        "baseline": {"questions": 4, "ours_correct": 3, "baseline_correct": 2, "ours_answer_p50_s": 9.0,
                     "baseline_answer_p50_s": 20.0},
    }
    met = {t["figure"].split(" (")[0]: t["met"] for t in targets(r)}
    assert met["ingest ratio"] is True and met["generation ratio"] is False
    assert met["hybrid p95 at 10000 chunks"] is True and met["hybrid p95 at 100000 chunks"] is False
    assert met["first token p50"] is True and met["qa-bot --help"] is None
    assert met["correct answers: ours vs plain LlamaIndex"] is True
    assert met["answer time p50"] is True
    r["targets"] = targets(r)
    table = markdown(r)
    assert table.splitlines()[0] == "| figure | value | target | met? |"
    assert "| ingest ratio (pipeline / raw encode) | 0.9 | >= 0.85 | yes |" in table
    assert "**no**" in table and "| n/a |" in table
    r["meta"]["quick"] = True
    assert all(t["met"] is None for t in targets(r) if t["figure"].startswith("hybrid"))


def test_correctness_uses_must_include_groups_and_refusals():
    q = {"answerable": True, "must_include": [["Paris"], ["2019", "two thousand nineteen"]]}
    assert is_correct(q, "They met in paris in 2019 [1].", refused=False)
    assert not is_correct(q, "They met in Paris [1].", refused=False)
    assert not is_correct(q, "Paris 2019", refused=True)
    assert is_correct({"answerable": False}, "I cannot answer that from the sources.", refused=True)
    # the eval's own matcher: whole words, and an answerable question with nothing to check is not "correct"
    assert not is_correct({"answerable": True, "must_include": [["no"]]}, "Putin is now ready [1].", refused=False)
    assert not is_correct({"answerable": True}, "Anything at all [1].", refused=False)


@pytest.mark.slow
def test_retrieval_part_runs_against_a_chroma_server(chroma_server):  # noqa: F811
    from qa_bot.retrieval.store import make_client as mc

    emb = HashEmbedder()
    corpus = make_corpus(PARAGRAPHS, emb, 200)
    queries = ["When does the apple harvest start?", "Where does the Danube end?"]
    server = mc(Path("/nonexistent"), chroma_server)
    rows = bench_sizes(server, corpus, {"200": 200}, queries, emb.embed(queries), emb, k=10,
                       collection="qa_bot_bench_server", echo=lambda *_: None)
    _check_rows(rows, {"200": 200})


@pytest.mark.slow
def test_quick_bench_writes_every_interface_key(tmp_path):
    from qa_bot.bench.run import run_bench
    from qa_bot.settings import Settings

    out = tmp_path / "bench"
    lines: list[str] = []
    s = Settings(index_dir=tmp_path / "unused-index", data_dir=tmp_path / "data")
    result = run_bench(s, out, quick=True, echo=lines.append)
    data = json.loads((out / "bench.json").read_text())
    assert data == json.loads(json.dumps(result))
    assert "errors" not in data, data.get("errors")
    for section, keys in INTERFACE_KEYS.items():
        for key in keys:
            assert data[section][key] > 0, (section, key)
    assert data["generation"]["model"]
    assert data["generation"]["prompt_cache_asks"] == 4  # the warm-up and 3 questions
    assert isinstance(data["generation"]["prompt_cache_hits"], int)
    warm = data["generation"]["warm"]  # the seeds fit: their whole-document prefix read ahead before timing
    assert data["generation"]["mode"] == "documents" and warm["what"] == "documents" and warm["mb"] > 0
    passages = data["generation_passages"]  # the same questions from passages, side by side
    assert passages["questions"] >= 2 and passages["warm"]["snapshots"] > 20  # every passage read ahead
    assert all(r["mode"] == "passages" for r in data["generation_passages_rows"])
    if (Path(__file__).parent.parent / ".venv" / ".installed").is_file():  # `make run` needs an installed checkout
        assert data["startup"]["make_run_ui_ready_s"] > data["startup"]["ui_ready_s"] > 0
    _check_rows({k: data["retrieval"][k] for k in ("1000", "10000", "100000")},
                {"1000": 1000, "10000": 2000, "100000": 3000})
    assert data["baseline"]["questions"] == 2 and data["baseline"]["baseline_answer_p50_s"] > 0
    table = (out / "bench.md").read_text()
    assert table.startswith("| figure | value | target | met? |")
    assert "| figure | value | target | met? |" in "\n".join(lines), "the table is echoed"
    assert not (tmp_path / "unused-index").exists(), "the bench builds its indexes in a temporary folder"
