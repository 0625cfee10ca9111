"""All 16 indicators of the 主要指标 table (19 rows: indicator 8 has four) come out right."""

from __future__ import annotations

import pytest

from indexer.corpus import Corpus

EXPECTED = [
    (1, "环境治理", "廊坊市建成区细颗粒物（PM2.5）浓度", "微克/立方米", "42", "35", "约束性"),
    (2, "环境治理", "城市空气质量优良天数比率", "%", "68.9", "74", "约束性"),
    (3, "环境治理", "地表水质量达到或优于Ⅲ类水体比率", "%", "-", "22以上（国省考断面）", "约束性"),
    (4, "环境治理", "地表水质量劣于Ⅴ类水体比率", "%", "-", "全部消除（国省考断面）", "约束性"),
    (5, "环境治理", "县级及以上城市建成区黑臭水体", "", "-", "动态清零", "预期性"),
    (6, "环境治理", "地下水国控点位Ⅴ类水控制比例", "%", "-", "25", "预期性"),
    (7, "环境治理", "农村生活污水治理率", "%", "-", "45", "预期性"),
    (8, "环境治理", "化学需氧量重点工程减排量", "万吨", "-", "1.21", "约束性"),
    (8, "环境治理", "氨氮重点工程减排量", "万吨", "-", "0.036", "约束性"),
    (8, "环境治理", "氮氧化物重点工程减排量", "万吨", "-", "0.55", "约束性"),
    (8, "环境治理", "挥发性有机物（VOCs）重点工程减排量", "万吨", "-", "0.3", "约束性"),
    (9, "应对气候变化", "单位地区生产总值二氧化碳排放量降低", "%", "-", "完成省下达任务", "约束性"),
    (10, "应对气候变化", "单位地区生产总值能源消耗降低", "%", "-", "16", "约束性"),
    (11, "应对气候变化", "非化石能源占能源消费总量比例", "%", "4", "10", "预期性"),
    (12, "环境风险防控", "受污染耕地治理和管控措施覆盖率", "%", "-", "100", "约束性"),
    (13, "环境风险防控", "建设用地土壤污染修复和风险管控措施覆盖率", "%", "-", "100", "约束性"),
    (14, "生态保护", "生态保护红线面积", "万平方千米", "-", "不减少", "约束性"),
    (15, "生态保护", "市、县生态质量指数（EQI）", "", "-", "稳中向好", "预期性"),
    (16, "生态保护", "林木覆盖率", "%", "35.03", "不降低", "约束性"),
]


@pytest.mark.parametrize("row", range(len(EXPECTED)))
def test_indicator_row(corpus: Corpus, row: int) -> None:
    ind = corpus.indicators[row]
    got = (ind.number, ind.category, ind.name, ind.unit, ind.baseline_2020, ind.target_2025, ind.attribute)
    assert got == EXPECTED[row]


def test_indicator_count_and_citations(corpus: Corpus) -> None:
    assert len(corpus.indicators) == 19
    assert len({i.number for i in corpus.indicators}) == 16
    passages = {p.id: p for p in corpus.passages}
    for ind in corpus.indicators:
        assert ind.name in passages[ind.passage_id].text
