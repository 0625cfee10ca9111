"""Targets of the plan (table rows and body sentences) and which of them apply where."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from indexer.corpus import Corpus
from indexer.errors import InvalidRequest, NotFound
from indexer.records import DocumentMeta, ParsedDocument, Passage
from service.schemas import TargetOut
from service.targets import Target, county_passages, extract_targets, targets_for

# (words of `what`, value, unit, year, scope_kind) for targets written in the plan's body.
BODY = [
    ("林木覆盖率", "35以上", "%", "2025", "city"),
    ("累计建成美丽乡村", "650以上", "个", "2025", "city"),
    ("测土配方施肥技术覆盖率", "90以上", "%", "2025", "sector"),
    ("新能源和清洁能源汽车比例", "不低于80", "%", "2025", "city"),
    ("声环境功能区夜间达标率", "85以上", "%", "2025", "city"),
    ("中水利用率", "45", "%", "2025", "city"),
    ("万元GDP用水量较2020年下降", "8.3", "%", "2025", "city"),
    ("粪污综合资源化利用率", "85以上", "%", "2025", "sector"),
    ("机扫率", "100", "%", "2025", "city"),
    ("农村生活垃圾无害化处理率", "100", "%", "2025", "city"),
    ("医废焚烧处置项目", "建成并运行", "", "2022", "sector"),
    ("垃圾填埋场地下水环境状况调查评估", "完成", "", "2023", "sector"),
    ("规划执行情况中期评估", "开展", "", "2023", "city"),
    ("规划执行情况总结评估", "开展", "", "2025", "city"),
    ("城镇污水厂出水标准", "京B标准", "", "", "county"),
    ("宽密植林带", "2~4", "千米", "", "zone"),
]


@pytest.fixture(scope="module")
def targets(corpus: Corpus) -> tuple[Target, ...]:
    return extract_targets(corpus)


def _body(targets: tuple[Target, ...], what: str, value: str) -> Target:
    found = [t for t in targets if not t.id.startswith("ind-") and what in t.what and t.value == value]
    assert len(found) == 1, (what, value, found)
    return found[0]


def _plan_passages(corpus: Corpus) -> dict[str, Passage]:
    plan = next(d for d in corpus.documents if d.meta.kind == "plan")
    return {p.id: p for p in plan.passages}


def test_all_table_rows_become_targets(corpus: Corpus, targets: tuple[Target, ...]) -> None:
    rows = [t for t in targets if t.id.startswith("ind-")]
    assert len(rows) == len(corpus.indicators) == 19
    passages = _plan_passages(corpus)
    for t, ind in zip(rows, corpus.indicators, strict=True):
        assert (t.what, t.value, t.unit, t.attribute) == (ind.name, ind.target_2025, ind.unit, ind.attribute)
        assert t.year == "2025" and t.scope == "全市" and t.scope_kind == "city"
        assert t.baseline == ("" if ind.baseline_2020 == "-" else ind.baseline_2020)
        assert t.quote == passages[ind.passage_id].text and t.section.endswith("主要指标")
    assert [t.id for t in rows if t.id.startswith("ind-08")] == ["ind-08a", "ind-08b", "ind-08c", "ind-08d"]


@pytest.mark.parametrize(("what", "value", "unit", "year", "kind"), BODY)
def test_body_target(
    corpus: Corpus, targets: tuple[Target, ...], what: str, value: str, unit: str, year: str, kind: str
) -> None:
    t = _body(targets, what, value)
    assert (t.unit, t.year, t.scope_kind) == (unit, year, kind)
    p = _plan_passages(corpus)[t.passage_id]
    assert t.quote and t.quote in p.text  # the quote can be highlighted in its passage
    assert t.section == p.section_path
    assert value.removeprefix("不低于").removesuffix("以上") in t.quote


def test_scopes_of_place_and_sector_targets(targets: tuple[Target, ...]) -> None:
    assert _body(targets, "城镇污水厂出水标准", "京B标准").scope == "三河市、大厂回族自治县、香河县"
    assert _body(targets, "宽密植林带", "2~4").scope == "中部发展引领区"
    assert _body(targets, "粪污综合资源化利用率", "85以上").scope == "畜禽养殖"
    assert _body(targets, "医废焚烧处置项目", "建成并运行").scope == "医疗机构"
    wind = [t for t in targets if t.unit == "兆瓦"]
    assert len(wind) == 2 and all(t.scope == "大城县" and t.value == "100" for t in wind)


def test_achievements_and_duplicates_are_not_targets(corpus: Corpus, targets: tuple[Target, ...]) -> None:
    passages = _plan_passages(corpus)
    # Chapter 一 says the forest cover already reached 35%: a result, not a target.
    assert not [t for t in targets if t.passage_id and passages[t.passage_id].section[0].startswith("一、")]
    # 专栏 4 repeats “中水利用率达到45%” without a year; only the dated body sentence is kept.
    assert len([t for t in targets if t.what == "中水利用率"]) == 1
    assert len({t.id for t in targets}) == len(targets)
    body = [t for t in targets if not t.id.startswith("ind-")]
    assert len({(t.what, t.year) for t in body}) == len(body)


def test_targets_fit_the_http_shape(targets: tuple[Target, ...]) -> None:
    for t in targets:
        out = TargetOut(**asdict(t))
        assert out.scope_kind in ("city", "zone", "county", "sector")
        assert t.what and t.value and t.passage_id


def test_extraction_works_on_unseen_wording() -> None:
    meta = DocumentMeta("p", "测试规划", "plan", "测试", "2024-01-01", "p.txt")
    text = "推进某项工作。到2030年，某县绿化覆盖率达到60%以上。2024年底前，完成某类场地调查评估任务。"
    p = Passage("p:0000", "p", ("三、测试章",), text, 0, len(text))
    corpus = Corpus((ParsedDocument(meta, text, (), (p,)),), (), "x")
    found = extract_targets(corpus)
    assert [(t.what, t.value, t.unit, t.year) for t in found] == [
        ("某县绿化覆盖率", "60以上", "%", "2030"),
        ("某类场地调查评估任务", "完成", "", "2024"),
    ]


def test_northern_county_gets_city_binding_and_its_own_targets(
    corpus: Corpus, targets: tuple[Target, ...]
) -> None:
    got = targets_for(targets, corpus, county="三河")
    ids = {t.id for t in got}
    binding = [t for t in targets if t.attribute == "约束性"]
    assert len(binding) == 14 and {t.id for t in binding} <= ids
    for t in got:
        assert t.why
        if t.attribute == "约束性":
            assert t.why.startswith("全市约束性指标，适用于各县（市、区）")
    jb = next(t for t in got if t.value == "京B标准")
    assert jb.why == "点名三河市"
    assert got[0] == jb  # place-specific targets first
    assert not [t for t in got if t.scope in ("大城县", "中部发展引领区")]


def test_zone_and_county_targets_stay_where_they_belong(corpus: Corpus, targets: tuple[Target, ...]) -> None:
    dacheng = targets_for(targets, corpus, county="大城县")
    assert len([t for t in dacheng if t.unit == "兆瓦"]) == 2
    assert not [t for t in dacheng if t.value == "京B标准"]
    middle = targets_for(targets, corpus, county="固安")
    belt = next(t for t in middle if t.value == "2~4")
    assert belt.why == "中部发展引领区任务（固安县属该区）"
    north = targets_for(targets, corpus, zone="北三县")
    jb = next(t for t in north if t.value == "京B标准")
    assert jb.why == "点名三河市、大厂回族自治县、香河县（属北部协同发展区）"
    assert not [t for t in north if t.scope_kind == "zone" or t.unit == "兆瓦"]


def test_sector_targets(corpus: Corpus, targets: tuple[Target, ...]) -> None:
    pigs = targets_for(targets, corpus, sector="养猪场")
    whats = {t.what for t in pigs}
    assert {"规模化养殖粪污综合资源化利用率", "病死畜禽无害化处理率"} <= whats
    assert {"化学需氧量重点工程减排量", "氨氮重点工程减排量"} <= whats  # the table rows livestock affects
    assert "廊坊市建成区细颗粒物（PM2.5）浓度" not in whats
    assert next(t for t in pigs if t.what == "病死畜禽无害化处理率").why == "畜禽养殖行业目标"
    printing = targets_for(targets, corpus, sector="印刷")
    assert [t.what for t in printing] == ["挥发性有机物（VOCs）重点工程减排量"]
    assert "涉及印刷（挥发性有机物）" in printing[0].why
    both = targets_for(targets, corpus, county="文安", sector="畜禽养殖")
    dead = next(t for t in both if t.what == "病死畜禽无害化处理率")
    assert dead.why == "畜禽养殖行业目标，全市适用（含文安县）"


def test_filters_by_year_and_attribute(corpus: Corpus, targets: tuple[Target, ...]) -> None:
    y2023 = targets_for(targets, corpus, year=2023)
    assert y2023 and all(t.year == "2023" for t in y2023)
    assert {"规划执行情况中期评估"} <= {t.what for t in y2023}
    expected = [t for t in targets if t.attribute == "预期性"]
    assert [t.id for t in targets_for(targets, corpus, attribute="预期性")] == [t.id for t in expected]
    with pytest.raises(InvalidRequest) as err:
        targets_for(targets, corpus, attribute="强制性")
    assert err.value.allowed == ["约束性", "预期性"]


def test_unknown_names_raise_not_found(corpus: Corpus, targets: tuple[Target, ...]) -> None:
    with pytest.raises(NotFound) as err:
        targets_for(targets, corpus, county="香和县")
    assert "香河县" in err.value.allowed
    with pytest.raises(NotFound):
        targets_for(targets, corpus, sector="航天")
    with pytest.raises(InvalidRequest):
        targets_for(targets, corpus, county="三河市", zone="南部优化发展区")


def test_county_passages(corpus: Corpus) -> None:
    sanhe = [p.text for p in county_passages(corpus, "三河市")]
    assert any("三河矿山" in t for t in sanhe) and any("京B标准" in t for t in sanhe)
    assert any("北部协同发展区" in t for t in sanhe)
    bazhou = county_passages(corpus, "霸州")
    # The southern zone's description runs on past its name into the next passages.
    assert any("南部小型或者作坊式铸造" in p.text for p in bazhou)
    assert not [p for p in bazhou if "北部协同发展区" in p.text and "南部" not in p.text]
    assert all(p.doc_id == "langfang-eco-plan" for p in bazhou)
    guan = county_passages(corpus, "固安县")
    assert any("固安县" in p.text for p in guan) and any("临空经济区" in p.text for p in guan)
