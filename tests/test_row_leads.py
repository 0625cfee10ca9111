"""When an indicator-table row leads an answer though retrieval ranked a sentence above it."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service.analyze import analyse
from service.answer import Scored
from service.compose.indicator import leads
from service.targets import Target

PLAN = "langfang-eco-plan"


def _hit(text: str, rank: int, kind: str = "chunk") -> Hit:
    p = Passage(f"p:{rank}", PLAN, ("主要目标",), text, 0, len(text), kind=kind)
    return Hit(p, 1.0, rank, "规划")


def _sentence(text: str) -> list[Scored]:
    return [Scored(_hit(text, 1), 0, len(text), 1.0)]


ROW = Target("ind-08d", "挥发性有机物（VOCs）重点工程减排量", "0.3", "万吨", "2025", "-", "约束性")
PM = Target("ind-01", "细颗粒物（PM2.5）浓度", "35", "微克/立方米", "2025", "42", "约束性")


def test_a_row_in_the_unit_asked_for_leads_a_sentence_without_it() -> None:
    rows = [(ROW, _hit("挥发性有机物（VOCs）重点工程减排量\t-\t0.3", 2, "table_row"))]
    q = analyse("要把全市的VOCs减掉多少万吨？", {})
    assert leads(q, rows, False, _sentence("把VOCs综合治理纳入总量控制体系。"))
    # The sentence gives the unit too: retrieval's order stands.
    assert not leads(q, rows, False, _sentence("VOCs减排0.3万吨。"))
    # A unit of letters or one character says little: % and 吨 stand in many sentences.
    assert not leads(
        analyse("VOCs要减多少%？", {}), rows, False, _sentence("把VOCs综合治理纳入总量控制体系。")
    )


def test_a_row_with_a_figure_for_the_year_asked_leads_a_sentence_of_other_years() -> None:
    rows = [(PM, _hit("细颗粒物（PM2.5）浓度\t42\t35", 2, "table_row"))]
    q = analyse("PM2.5在2020年是多少？", {})
    assert leads(q, rows, False, _sentence("PM2.5年平均浓度较2015年降幅达50.6%。"))
    assert not leads(q, rows, False, _sentence("2020年PM2.5年平均浓度为42微克/立方米。"))
