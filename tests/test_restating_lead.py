"""A penalty question is answered by the penalty article that restates the act it describes,
not by the best-scored one that punishes another act. Real law text, no model, no index."""

from __future__ import annotations

from typing import Any

import pytest

from indexer.corpus import Corpus
from service.analyze import analyse
from service.answer import Scored
from service.compose.context import Context
from service.compose.general import article_passages, restating_lead

QUESTION = "我在河道管理范围内搭了几间棚子，水利局说妨碍行洪，我不拆会怎么罚？"
TITLES = {"water-law": "中华人民共和国水法"}


@pytest.fixture(scope="module")
def ctx(corpus: Corpus) -> Context:
    searcher: Any = None  # the lead is chosen among sentences already scored
    return Context(corpus, searcher, (), {})


def _scored(ctx: Context, passage_id: str, score: float) -> Scored:
    p = ctx.by_id[passage_id]
    return Scored(ctx.hit(p), 0, len(p.text), score)


def test_the_article_restating_the_act_leads(ctx: Context) -> None:
    q = analyse(QUESTION, TITLES)
    assert q.asks_penalty
    other = _scored(ctx, "water-law:a69", 2.0)  # 擅自取水: another act
    duty = _scored(ctx, "water-law:a37", 1.6)
    restating = _scored(ctx, "water-law:a65-1", 1.2)
    lead = restating_lead(ctx, q, other, [other, duty, restating])
    assert lead is restating


def test_the_best_article_stays_without_a_duty_or_far_below(ctx: Context) -> None:
    q = analyse(QUESTION, TITLES)
    other = _scored(ctx, "water-law:a69", 2.0)
    restating = _scored(ctx, "water-law:a65-1", 1.2)
    # No duty sentence names the act in the law's words: nothing to judge the articles by.
    assert restating_lead(ctx, q, other, [other, restating]) is other
    duty = _scored(ctx, "water-law:a37", 1.6)
    weak = _scored(ctx, "water-law:a65-1", 0.5)
    assert restating_lead(ctx, q, other, [other, duty, weak]) is other
    # A question about a duty keeps its lead whatever the penalty articles say.
    plain = analyse("河道管理范围内能不能搭棚子？", TITLES)
    assert restating_lead(ctx, plain, other, [other, duty, restating]) is other


def test_an_article_is_found_whole_from_any_of_its_passages(ctx: Context) -> None:
    by_unit: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for p in ctx.passages:
        by_unit.setdefault((p.doc_id, p.section), []).append(p.id)
    longest = max((ids for (doc, _), ids in by_unit.items() if doc == "water-law"), key=len)
    assert len(longest) > 1
    for pid in longest:
        assert [x.id for x in article_passages(ctx, ctx.by_id[pid])] == longest
    single = next(ids for ids in by_unit.values() if len(ids) == 1)
    assert [x.id for x in article_passages(ctx, ctx.by_id[single[0]])] == single
