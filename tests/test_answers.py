"""Question → answer checks over real HTTP with the real index and model.

The questions are written from the documents (and are not the evaluation gold set); each
expected fact is a string that stands in the cited text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from indexer.settings import Settings
from service.app import create_app
from tests.live import serve

pytestmark = pytest.mark.slow
INDICATORS = "廊坊市“十四五”生态环境保护主要指标"

# (question, facts the answer must contain, a fragment of some cited section or "")
ANSWERABLE: list[tuple[str, list[str], str]] = [
    # indicators: values from the table, with unit, year, baseline and attribute
    ("2025年城市空气质量优良天数比率目标是多少？", ["74", "68.9", "约束性"], INDICATORS),
    ("农村生活污水治理率2025年要达到多少？是约束性还是预期性？", ["45", "预期性"], INDICATORS),
    ("化学需氧量重点工程减排量是多少万吨？", ["1.21", "万吨"], INDICATORS),
    ("非化石能源占能源消费总量比例的目标是多少", ["10", "预期性"], INDICATORS),
    ("受污染耕地治理和管控措施覆盖率目标是多少", ["100", "约束性"], INDICATORS),
    ("林木覆盖率2020年是多少", ["35.03"], INDICATORS),
    ("2025年PM2.5浓度目标是多少？是约束性指标吗？", ["35", "微克/立方米", "42", "约束性"], INDICATORS),
    # counties and zones
    ("大厂回族自治县有哪些目标任务？", ["北部协同发展区", "京B标准"], "（一）保障水环境质量稳定达标"),
    ("霸州属于哪个功能区？", ["南部优化发展区", "霸州市"], "（一）打造绿色发展生态空间"),
    ("安次区要做什么", ["中部发展引领区", "东张务湿地"], ""),
    ("大城县有什么能源项目", ["100兆瓦", "风电"], "专栏 2"),
    ("三河市要完成哪些目标？", ["三河矿山", "京B标准", "北部协同发展区"], ""),
    ("南部优化发展区有什么要求", ["霸州市", "南水北调"], "（一）打造绿色发展生态空间"),
    # sectors: the plan's requirements and the binding law
    ("涂装企业有哪些要求？", ["涂装", "低挥发性有机物含量"], "第四十六条"),
    ("我们是养鸡场，要注意什么？", ["畜禽"], ""),
    ("加油站有什么要求", ["油气回收"], ""),
    ("医院的医疗废物怎么管", ["医疗废物"], ""),
    ("建筑工地扬尘怎么管", ["扬尘"], ""),
    # numbers and deadlines, verbatim
    ("市医废焚烧处置项目什么时候建成？", ["2022年底"], "（二）注重医疗废物全过程管理"),
    ("中水利用率要达到多少？", ["45%"], ""),
    ("声环境功能区夜间达标率目标是多少", ["85%以上"], "（二）夯实绿色发展生态基础"),
    ("主要道路机扫率要达到多少", ["100%"], "（二）强化大气多污染源综合治理"),
    ("测土配方施肥覆盖率要稳定在多少", ["90%以上"], ""),
    ("规划什么时候开展中期评估", ["2023"], "（一）强化组织领导"),
    # laws: the article, cited as such
    ("大气污染防治法对重点排污单位自动监测有什么规定？", ["自动监测"], "第三章 大气污染防治的监督管理"),
    ("排污许可证的有效期是几年", ["5年"], "第十四条"),
    ("医疗废物暂时贮存不得超过几天", ["2天"], "第十七条"),
    ("环境保护税的纳税人是谁", ["纳税人"], "第二条"),
    ("畜禽养殖场应当建设哪些污染防治设施", ["雨水分流"], "第十三条"),
    # everyday wording
    ("冒黑烟的大货车怎么管？", ["柴油"], "（二）强化大气多污染源综合治理"),
    ("地里烧秸秆管不管？", ["秸秆"], "（二）强化大气多污染源综合治理"),
    ("饭店油烟扰民怎么办", ["油烟"], ""),
    # several questions in one: each part answered and cited
    ("2025年化学需氧量和氨氮的减排量分别是多少？", ["（1）", "（2）", "1.21", "0.036"], INDICATORS),
    ("固安县和文安县各属于哪个功能区？", ["（1）", "（2）", "中部发展引领区", "南部优化发展区"], ""),
    (
        "医疗废物暂时贮存不得超过几天？环境保护税的纳税人是谁？",
        ["（1）", "（2）", "2天", "纳税人"],
        "第十七条",
    ),
]

UNANSWERABLE = [
    "廊坊2030年PM2.5目标是多少？",
    "廊坊市的房价是多少？",
    "三河市2025年PM2.5浓度目标是多少？",
    "PM10年均浓度目标是多少",
    "买新能源汽车补贴多少钱",
    "廊坊市生活垃圾焚烧发电厂的日处理能力是多少吨？",
    # places the documents do not cover
    "唐山市2025年PM2.5浓度目标是多少？",
    "江苏省对家具喷漆企业有什么要求？",
]


def test_outside_place_is_named_in_the_decline(url: str) -> None:
    body = ask(url, "邯郸市的优良天数比率目标是多少？")
    assert body["abstained"] and "邯郸" in body["answer"], body["answer"]


@pytest.fixture(scope="module")
def url(index_settings: Settings, engine: Any) -> Iterator[str]:
    with serve(create_app(index_settings, engine=engine)) as base:
        yield base


def ask(url: str, question: str) -> dict[str, Any]:
    r = httpx.post(f"{url}/api/ask", json={"question": question, "top_k": 5}, timeout=60)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _flat(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize(("question", "facts", "section"), ANSWERABLE)
def test_answerable(url: str, question: str, facts: list[str], section: str) -> None:
    body = ask(url, question)
    assert not body["abstained"], body["answer"]
    answer = _flat(body["answer"])
    for fact in facts:
        assert _flat(fact) in answer, f"{fact!r} missing from {body['answer']!r}"
    assert "[1]" in body["answer"], "every answer carries citation markers"
    cited = [c["section"] for c in body["citations"]]
    if section:
        assert any(section in s for s in cited), cited
    # Every marker points at a citation whose quote stands in its passage.
    numbers = {c["n"] for c in body["citations"]}
    for c in body["citations"]:
        assert c["quote"] and _flat(c["quote"]) in _flat(c["text"])
    for n in range(1, 30):
        if f"[{n}]" in body["answer"]:
            assert n in numbers


def test_a_long_article_cites_its_matching_part_first(url: str) -> None:
    # 森林法第七十四条 is stored in two parts; the penalty asked about is in the second.
    body = ask(url, "往林地里排放重金属超标的污水污泥，森林法怎么处罚？")
    assert not body["abstained"], body["answer"]
    first = body["citations"][0]
    assert first["section"].endswith("第七十四条") and "重金属" in first["text"], first
    assert body["answer"].startswith("根据《中华人民共和国森林法》第七十四条[1]："), body["answer"]
    # The article is still quoted in its own order: the opening part comes first in the text.
    assert body["answer"].index("进行开垦") < body["answer"].index("重金属")


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [
        ("我们是开印刷厂的，按大气污染防治法有什么要求？", "air-pollution-prevention-law"),
        ("养猪场按水污染防治法要注意什么？", "water-pollution-prevention-law"),
    ],
)
def test_a_trade_question_naming_a_statute_is_answered_from_that_statute(
    url: str, question: str, doc_id: str
) -> None:
    # The plan's sentences on the trade (and another law's article) would answer another question.
    body = ask(url, question)
    assert not body["abstained"], body["answer"]
    assert {c["doc_id"] for c in body["citations"]} == {doc_id}, body["citations"]


@pytest.mark.parametrize("doc_id", ["air-pollution-prevention-law", "langfang-eco-plan"])
def test_a_trade_question_asked_within_one_document_cites_only_it(url: str, doc_id: str) -> None:
    # The trade's composer gathers plan sentences and a governing article of its own; the
    # documents the caller asked within hold them too.
    r = httpx.post(
        f"{url}/api/ask", json={"question": "我们是印刷厂，有什么要求？", "doc_ids": [doc_id]}, timeout=60
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["abstained"], body["answer"]
    assert {c["doc_id"] for c in body["citations"]} == {doc_id}, body["citations"]


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_abstains_with_related(url: str, question: str) -> None:
    body = ask(url, question)
    assert body["abstained"], body["answer"]
    assert "没有找到" in body["answer"]
    assert body["citations"] == []
    assert body["related"], "nearest passages are offered as related reading"


def test_indicator_answer_carries_target_records(url: str) -> None:
    body = ask(url, "2025年PM2.5浓度目标是多少？")
    target = next(t for t in body["targets"] if "PM2.5" in t["what"])
    assert (target["value"], target["unit"], target["year"], target["baseline"], target["attribute"]) == (
        "35",
        "微克/立方米",
        "2025",
        "42",
        "约束性",
    )


def test_county_answer_resolves_zone_and_lists_targets(url: str) -> None:
    body = ask(url, "大厂要完成哪些目标任务")
    assert body["county"] == "大厂回族自治县" and body["zone"] == "北部协同发展区"
    kinds = {t["scope_kind"] for t in body["targets"]}
    assert "city" in kinds and {"county", "zone"} & kinds
    assert all(t["why"] for t in body["targets"])


def test_sector_answer_names_sector(url: str) -> None:
    body = ask(url, "我们是印刷厂")
    assert body["sector"] == "印刷" and not body["abstained"]
    assert "印刷" in body["answer"]
