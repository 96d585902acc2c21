"""Hybrid retrieval's top k: overlapping chunks widen one passage instead of taking two slots."""

from __future__ import annotations

import pytest

from qa_bot.factory import build_bot
from qa_bot.retrieval.hybrid import merge_overlapping, union
from qa_bot.schema import Chunk, Scored

from .conftest import SEEDS, WSJ

TEXT = "One sentence here. Two sentence here. Three sentence here. Four sentence here. Five."


def chunk(doc: str, start: int, end: int, position: int) -> Chunk:
    return Chunk(f"{doc}:{position:05d}", doc, f"{doc}.txt", doc.upper(), TEXT[start:end], start, end, position)


A, B, C = chunk("a", 0, 37, 0), chunk("a", 19, 58, 1), chunk("a", 59, 84, 2)
OTHER = chunk("b", 0, 18, 0)


def test_overlapping_chunks_become_one_passage_and_the_next_candidate_gets_the_slot():
    ranked = [Scored(B, 0.9), Scored(OTHER, 0.8), Scored(A, 0.7), Scored(C, 0.6)]
    top = merge_overlapping(ranked, 3)
    assert [s.chunk.doc_id for s in top] == ["a", "b", "a"]
    wide = top[0].chunk
    assert (wide.start, wide.end, wide.text) == (0, 58, TEXT[0:58])
    assert (wide.id, wide.position) == (A.id, 0)  # the earlier chunk's: the later one is its stored neighbour
    assert top[0].score == 0.9 and top[2].chunk == C


def test_chunks_that_touch_or_belong_to_other_documents_stay_apart():
    top = merge_overlapping([Scored(B, 0.9), Scored(C, 0.8), Scored(chunk("b", 19, 58, 1), 0.7)], 4)
    assert [s.chunk for s in top][:2] == [B, C] and len(top) == 3


def test_union_of_a_chunk_inside_another_is_the_outer_one():
    inner = chunk("a", 19, 37, 1)
    assert union(A, inner) == A and union(inner, A) == A
    assert union(B, A).text == union(A, B).text == TEXT[0:58]


def test_at_most_k_passages_and_fewer_candidates_is_fine():
    assert merge_overlapping([], 4) == []
    assert len(merge_overlapping([Scored(A, 1.0), Scored(C, 0.5), Scored(OTHER, 0.4)], 2)) == 2


def test_retrieved_passages_of_the_seeds_never_overlap_and_are_slices_of_their_documents(seeds_index_fake):
    bot = build_bot(seeds_index_fake)
    for q in ("When and where did Putin and Zelensky first meet?", "What did Trump say about a meeting?",
              "Why would a meeting damage Putin with the Russian elite?"):
        hits = bot.retriever.retrieve(q).hits
        assert len(hits) == bot.retriever.top_k
        for i, h in enumerate(hits):
            assert (SEEDS / h.chunk.source).read_text(encoding="utf-8")[h.chunk.start : h.chunk.end] == h.chunk.text
            for g in hits[i + 1 :]:
                assert g.chunk.doc_id != h.chunk.doc_id or g.chunk.end <= h.chunk.start or h.chunk.end <= g.chunk.start


@pytest.mark.slow
def test_the_passage_naming_where_they_met_is_retrieved_with_the_real_embedder(real_seeds_index):
    hits = build_bot(real_seeds_index, llm=None).retriever.retrieve("When and where did Putin and Zelensky first meet?").hits
    assert any(h.chunk.source == WSJ and "in Paris in 2019" in h.chunk.text for h in hits)
