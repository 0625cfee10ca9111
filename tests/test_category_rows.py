"""Which indicators a category of the plan's table holds, answered from the table as data."""

from __future__ import annotations

from typing import Any

import pytest

from indexer.corpus import Corpus
from service.analyze import analyse
from service.compose.context import Context
from service.compose.indicator import category_line, category_rows
from service.targets import extract_targets


@pytest.fixture(scope="module")
def ctx(corpus: Corpus) -> Context:
    searcher: Any = None  # listing a category reads the table only, never the search
    return Context(corpus, searcher, extract_targets(corpus), {})


def test_table_targets_carry_their_category(corpus: Corpus, ctx: Context) -> None:
    rows = [t for t in ctx.targets if t.id.startswith("ind-")]
    assert [t.category for t in rows] == [ind.category for ind in corpus.indicators]
    assert {t.category for t in rows} == {"环境治理", "应对气候变化", "环境风险防控", "生态保护"}
    assert all(t.category == "" for t in ctx.targets if not t.id.startswith("ind-"))


def test_a_named_category_lists_every_row_in_table_order(ctx: Context) -> None:
    rows = category_rows(ctx, analyse("主要指标表里“应对气候变化”这一类下有哪几项指标？", {}))
    assert [t.id for t, _ in rows] == ["ind-09", "ind-10", "ind-11"]
    assert all(hit.passage.id == t.passage_id for t, hit in rows)
    line = category_line(ctx, rows)
    assert "“应对气候变化”类共3项指标：第9项、第10项、第11项" in line.pieces[0].text


def test_indicator_8_counts_once_however_many_rows_it_spans(ctx: Context) -> None:
    rows = category_rows(ctx, analyse("“环境治理”类包括哪些指标？", {}))
    numbers = category_line(ctx, rows).pieces[0].text
    assert numbers.count("第8项") == 1 and len([t for t, _ in rows if t.id.startswith("ind-08")]) == 4


@pytest.mark.parametrize(
    "question",
    [
        "应对气候变化的目标是多少？",  # no list asked
        "“环境治理”和“生态保护”两类各有哪些指标？",  # two categories: a comparison
        "规划里有哪些措施？",  # a list, but of no category
        "规划对生态保护有哪些措施？",  # a category's words, but measures asked for
    ],
)
def test_no_listing_without_exactly_one_category_and_a_list_asked(ctx: Context, question: str) -> None:
    assert category_rows(ctx, analyse(question, {})) == []


def test_a_body_sentence_with_the_figure_leads_when_the_row_gives_none(ctx: Context) -> None:
    from service.answer import score_sentences
    from service.compose.indicator import compose_indicators

    q = analyse("到2025年全市林木覆盖率要稳定在多少？", {})
    row = next(t for t in ctx.targets if t.id.startswith("ind-") and t.what == "林木覆盖率")
    assert row.value == "不降低"
    body = next(p for p in ctx.passages if "全市林木覆盖率稳定在" in p.text.replace(" ", ""))
    scored = score_sentences(q, [ctx.hit(body, rank=2)], {})
    lines = compose_indicators(ctx, q, [(row, ctx.hit(ctx.by_id[row.passage_id], rank=1))], scored)
    assert [line.kind for line in lines] == ["sentence", "indicator"]
    assert "35" in lines[0].pieces[0].text


def test_the_row_still_leads_for_the_year_it_gives_a_figure_for(ctx: Context) -> None:
    from service.answer import score_sentences
    from service.compose.indicator import compose_indicators

    q = analyse("林木覆盖率2020年是多少？", {})
    row = next(t for t in ctx.targets if t.id.startswith("ind-") and t.what == "林木覆盖率")
    body = next(p for p in ctx.passages if "全市林木覆盖率稳定在" in p.text.replace(" ", ""))
    scored = score_sentences(q, [ctx.hit(body, rank=2)], {})
    lines = compose_indicators(ctx, q, [(row, ctx.hit(ctx.by_id[row.passage_id], rank=1))], scored)
    assert lines[0].kind == "indicator"
