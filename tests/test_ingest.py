"""Incremental ingest with the fake embedder: add, no-op, modify, delete, rename, settings mismatch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa_bot.errors import IndexMismatchError
from qa_bot.factory import build_ingestor, build_store
from qa_bot.ingest.chunking import CHUNKER
from qa_bot.ingest.manifest import Manifest
from qa_bot.retrieval.bm25 import BM25Index

from .conftest import SEEDS

TEXTS = {
    "apples.txt": "Apples Of The North\n\nApples grow in cold orchards. The harvest starts in September and ends in October.",
    "pears.txt": "Pears\n\nPear trees are tall. Their fruit ripens after picking, in a cool cellar.",
    "plums.md": "# Plums\n\nPlums make jam. A plum tree gives fruit in its third year.",
}


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    for name, text in TEXTS.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def _state(s):
    """(manifest, {doc_id: chunk count in the store}, all chunk ids) after checking they agree."""
    m = Manifest.load(Path(s.index_dir) / "manifest.json")
    store = build_store(s)
    counts = store.doc_counts()
    assert m is not None and not m.dirty
    assert counts == {e.doc_id: e.chunks for e in m.sources.values()}, "no orphan or missing chunks"
    ids = sorted(c.id for c in store.all_chunks())
    assert len(ids) == len(set(ids)) == store.count() == sum(e.chunks for e in m.sources.values())
    bm25 = BM25Index.load(Path(s.index_dir) / "bm25")
    assert bm25 is not None and sorted(bm25.ids) == ids and bm25.digest == m.bm25_digest == m.digest()
    return m, counts, ids


def _sources(m):
    return sorted(e.source for e in m.sources.values())


def test_first_ingest_then_noop(folder, settings_fake):
    r1 = build_ingestor(settings_fake).run([folder])
    assert (r1.added, r1.updated, r1.removed, r1.unchanged, r1.failed) == (3, 0, 0, 0, [])
    assert r1.embedded == r1.chunks > 0
    m, _, ids = _state(settings_fake)
    assert _sources(m) == sorted(TEXTS)
    assert m.embedder == "fake-hash" and m.dim == 256
    assert (m.chunk_size, m.chunk_overlap) == (settings_fake.chunk_size, settings_fake.chunk_overlap)
    r2 = build_ingestor(settings_fake).run([folder])
    assert (r2.added, r2.updated, r2.removed, r2.unchanged, r2.embedded) == (0, 0, 0, 3, 0)
    assert r2.chunks == r1.chunks
    assert _state(settings_fake)[2] == ids
    assert "0 added, 0 updated, 0 removed, 3 unchanged, 0 failed" in r2.summary()


def test_modified_file_replaces_its_chunks(folder, settings_fake):
    build_ingestor(settings_fake).run([folder])
    # many more sentences: more chunks than before, so stale ones would show as orphans
    (folder / "pears.txt").write_text("Pears\n\n" + "Pears turn yellow when they are ripe. " * 80)
    r = build_ingestor(settings_fake).run([folder])
    assert (r.added, r.updated, r.unchanged) == (0, 1, 2)
    m, counts, _ = _state(settings_fake)
    pears = next(e for e in m.sources.values() if e.source == "pears.txt")
    assert counts[pears.doc_id] == pears.chunks > 1 and r.embedded == pears.chunks
    # and shrink it again: the extra chunks must go
    (folder / "pears.txt").write_text("Pears are small now.")
    r = build_ingestor(settings_fake).run([folder])
    m, counts, _ = _state(settings_fake)
    assert r.updated == 1 and counts[pears.doc_id] == 1
    texts = [c.text for c in build_store(settings_fake).all_chunks() if c.doc_id == pears.doc_id]
    assert texts == ["Pears are small now."]


def test_deleted_file_is_removed(folder, settings_fake):
    build_ingestor(settings_fake).run([folder])
    (folder / "plums.md").unlink()
    r = build_ingestor(settings_fake).run([folder])
    assert (r.removed, r.unchanged) == (1, 2)
    m, _, ids = _state(settings_fake)
    assert _sources(m) == ["apples.txt", "pears.txt"]
    assert not any("jam" in c.text for c in build_store(settings_fake).all_chunks())


def test_rename_reuses_vectors(folder, settings_fake):
    r1 = build_ingestor(settings_fake).run([folder])
    (folder / "apples.txt").rename(folder / "northern apples.txt")
    r = build_ingestor(settings_fake).run([folder])
    assert (r.added, r.removed, r.unchanged) == (1, 1, 2)
    assert r.embedded == 0, "same bytes under a new name are not embedded again"
    m, _, _ = _state(settings_fake)
    assert _sources(m) == ["northern apples.txt", "pears.txt", "plums.md"]
    assert r.chunks == r1.chunks
    # the moved chunks are found and carry the new name
    from qa_bot.fakes import HashEmbedder

    hits = build_store(settings_fake).query(HashEmbedder().embed(["apples cold orchards harvest September"])[0], 1)
    assert hits[0][0].source == "northern apples.txt"


def test_a_folder_and_an_explicit_file_in_it_are_one_source(folder, settings_fake):
    r = build_ingestor(settings_fake).run([folder, folder / "apples.txt"])
    assert r.added == 3 and r.unchanged == 1
    _state(settings_fake)


def test_missing_path_is_reported(folder, settings_fake):
    r = build_ingestor(settings_fake).run([folder, folder / "nope"])
    assert r.added == 3
    assert r.failed == [(str(folder / "nope"), "no such file or folder")]


def test_other_embedder_or_chunking_is_refused_unless_rebuild(folder, settings_fake):
    build_ingestor(settings_fake).run([folder])

    class OtherEmbedder:
        name = "other-model"
        dim = 256

        def embed(self, texts):
            raise AssertionError("must not embed before the check")

    with pytest.raises(IndexMismatchError, match=r"embedder 'fake-hash'.*not 'other-model'.*--rebuild"):
        build_ingestor(settings_fake, embedder=OtherEmbedder()).run([folder])
    smaller = settings_fake.model_copy(update={"chunk_size": 64})
    with pytest.raises(IndexMismatchError, match=r"chunk_size=\d+.*not 64/.*--rebuild"):
        build_ingestor(smaller).run([folder])
    overlap = settings_fake.model_copy(update={"chunk_overlap": 0})
    with pytest.raises(IndexMismatchError, match="chunk_overlap"):
        build_ingestor(overlap).run([folder])
    older = Manifest.load(Path(settings_fake.index_dir) / "manifest.json")  # cut before the chunker was recorded
    older.chunker = ""
    older.save(Path(settings_fake.index_dir) / "manifest.json")
    with pytest.raises(IndexMismatchError, match=rf"older chunker \(punkt, not {CHUNKER}\).*--rebuild"):
        build_ingestor(settings_fake).run([folder])
    older.chunker = "sentences-v2"  # session 36's: a hard-wrapped line still ended a sentence
    older.save(Path(settings_fake.index_dir) / "manifest.json")
    with pytest.raises(IndexMismatchError, match=rf"older chunker \(sentences-v2, not {CHUNKER}\).*--rebuild"):
        build_ingestor(settings_fake).run([folder])
    older.chunker = CHUNKER
    older.save(Path(settings_fake.index_dir) / "manifest.json")
    # the refused runs changed nothing
    m, _, _ = _state(settings_fake)
    assert m.chunk_size == settings_fake.chunk_size
    # --rebuild: everything is re-embedded with the new settings
    (folder / "long.txt").write_text("Quinces are hard and yellow. " * 60)
    r = build_ingestor(smaller).run([folder], rebuild=True)
    assert r.added == 4 and r.embedded == r.chunks
    m, _, _ = _state(smaller)
    assert m.chunk_size == 64


def test_bm25_follows_changes(folder, settings_fake):
    from qa_bot.factory import load_bm25

    build_ingestor(settings_fake).run([folder])
    store = build_store(settings_fake)
    hits = load_bm25(settings_fake, store).search("cellar", 3)
    assert [store.get([i])[i].source for i, _ in hits] == ["pears.txt"]
    (folder / "pears.txt").write_text("Pears are green.")
    (folder / "figs.txt").write_text("Figs are stored in a cellar over winter.")
    build_ingestor(settings_fake).run([folder])
    store = build_store(settings_fake)
    bm25 = load_bm25(settings_fake, store)
    assert [store.get([i])[i].source for i, _ in bm25.search("cellar", 3)] == ["figs.txt"]
    assert sorted(bm25.ids) == sorted(c.id for c in store.all_chunks())


def test_remove_by_name(folder, settings_fake):
    ing = build_ingestor(settings_fake)
    ing.run([folder])
    assert ing.remove("plums.md") is True
    assert ing.remove("plums.md") is False
    m, _, _ = _state(settings_fake)
    assert _sources(m) == ["apples.txt", "pears.txt"]


def test_seeds_ingest_is_stable(tmp_path, settings_fake):
    """The same files in two folders give different sources; each index is self-consistent."""
    copy = tmp_path / "seeds_copy"
    shutil.copytree(SEEDS, copy)
    r = build_ingestor(settings_fake).run([SEEDS, copy])
    assert r.added == 4 and not r.failed
    m, counts, ids = _state(settings_fake)
    assert len(counts) == 4
    # a copy in a second folder is embedded fresh or reused, but never merged with the original
    assert len({e.doc_id for e in m.sources.values()}) == 4


def test_corrupt_manifest_is_rebuilt(folder, settings_fake):
    build_ingestor(settings_fake).run([folder])
    _, _, ids = _state(settings_fake)
    (Path(settings_fake.index_dir) / "manifest.json").write_text('{"embedder": "fake-hash", "sour')
    r = build_ingestor(settings_fake).run([folder])
    assert r.added == 3
    assert _state(settings_fake)[2] == ids


def test_bm25_names_a_questions_rarest_words_by_document_frequency():
    """The stems of a question in the fewest passages, leaving out stems no passage has."""
    from qa_bot.retrieval.bm25 import BM25Index

    idx = BM25Index.build([("a", "Putin met Zelensky in Paris."), ("b", "Putin called Zelensky a clown."),
                           ("c", "Putin spoke to Trump on Monday.")], "d")
    assert idx.rarest("Did Putin meet Zelensky in Paris or in Geneva?") == ["pari", "zelenski"]  # "meet": in none
    assert idx.rarest("Geneva?") == []
    # share: leave out stems in more than that share of the passages ("Putin" 3 of 3, "Zelensky" 2 of 3)
    assert idx.rarest("Did Putin meet Zelensky in Paris?", 4, share=0.5) == ["pari"]
