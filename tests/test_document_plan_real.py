"""Issue 16, plan (b), with the default model: one seed article whole from its own read-ahead prefix,
then the passages of the other article (slow: reads two article prefixes and answers one question)."""

from __future__ import annotations

import shutil

import pytest

from qa_bot.factory import build_bot

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_one_article_whole_from_its_prefix_then_passages_of_the_other(real_seeds_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(real_seeds_index.index_dir, index, ignore=shutil.ignore_patterns("kv"))
    # each article is about 2,250 tokens, both about 4,500: only one fits; 160 MB holds both prefixes
    s = real_seeds_index.model_copy(update={"index_dir": index, "context_tokens": 3000, "warm_passages_mb": 160})
    bot = build_bot(s)
    report = bot.warm()
    assert report is not None and report["documents"] == 2, report
    ans = bot.ask("Who is Konstantin Zatulin?")
    assert ans.mode == "document" and not ans.refused and "Zatulin" in ans.answer, ans
    for c in ans.citations:
        assert (ROOT / "seeds" / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote
    # the article was not read again: the question resumed from its prefix (all but the template's last tokens)
    prefix = bot.prefix(bot.plan(bot.retriever.retrieve(ans.standalone_question)))
    need = sum(bot.llm.count_tokens(m["content"]) for m in prefix)
    assert bot.llm.cache is not None and bot.llm.cache.reused_tokens >= need - 16, (bot.llm.cache.reused_tokens, need)
