"""The plan's artefact repair, heading tree, passages and spans."""

from __future__ import annotations

import re

import pytest

from indexer.clean import fix_inline, split_blocks
from indexer.corpus import Corpus
from indexer.records import ParsedDocument

PLAN = "langfang-eco-plan"


@pytest.fixture(scope="module")
def plan(corpus: Corpus) -> ParsedDocument:
    return next(d for d in corpus.documents if d.meta.id == PLAN)


def test_fix_inline_removes_stray_spaces_and_tex() -> None:
    assert fix_inline("完成 775 个重点行业") == "完成775个重点行业"
    assert fix_inline("到 2025 年，全市") == "到2025年，全市"
    assert fix_inline("细颗粒物（PM_{2.5}）与 NO_x 的") == "细颗粒物（PM2.5）与NOx的"
    assert fix_inline("设施设备、构筑物 and 污染治理设施") == "设施设备、构筑物和污染治理设施"
    assert fix_inline("1 1") == "11"
    # Spaces between two Latin words are real and stay.
    assert fix_inline("Langfang eco plan") == "Langfang eco plan"


@pytest.mark.parametrize(
    "whole",
    [
        "推进重点行业企业用地土壤污染状况调查，完成775个重点行业企业",
        "积极推进农村污水治理工作，473个村庄的生活污水得到有效处理",
        "在习近平生态文明思想指引下，全党把生态文明建设",
        "制定《廊坊市应对气候变化“十四五”规划》、《廊坊市温室气体排放清单》",
        "巩固水泥、陶瓷、平板玻璃、电力等重点行业超低排放改造成果",
        "建立小微企业危险废物收集试点，解决小微企业危险废物收集难的问题",
        "严格落实24小时值守制度",
        "全市城镇",
    ],
)
def test_broken_sentences_come_out_whole(plan: ParsedDocument, whole: str) -> None:
    assert whole in plan.text
    assert any(whole in p.text for p in plan.passages), "the repaired sentence must sit inside one passage"


def test_no_artefacts_left(plan: ParsedDocument) -> None:
    prose = "\n".join(p.text for p in plan.passages if p.kind != "table_row")
    assert not re.search(r"\d [个年月日万%]", prose)
    assert not re.search(r"[\u4e00-\u9fff] \d", prose)
    assert "_{" not in prose and " and " not in prose


def test_heading_tree(plan: ParsedDocument) -> None:
    chapters = [h.title for h in plan.headings if h.level == 1]
    assert len(chapters) == 11
    assert chapters[0] == "一、接续奋进，开启廊坊市生态环境保护新征程"
    assert chapters[-1] == "十一、规划实施保障措施"
    sections = [h.title for h in plan.headings if h.level == 2 and not h.title.startswith("专栏")]
    assert len(sections) == 33 and sections.count("（一）取得历史性成就") == 1
    boxes = [h.title for h in plan.headings if h.title.startswith("专栏")]
    assert boxes == [
        f"专栏 {i} {t}"
        for i, t in enumerate(
            [
                "生态空间与结构调整重点工程",
                "应对气候变化重点工程",
                "大气环境提升重点工程",
                "水生态环境提升重点工程",
                "土壤环境治理重点工程",
                "危险废物处置重点工程",
                "强化风险防控重点工程",
                "环境治理能力提升重点工程",
            ],
            1,
        )
    ]
    for h in plan.headings:
        assert plan.text[h.start : h.start + len(h.title)] == h.title


def test_passage_spans_and_paths(plan: ParsedDocument) -> None:
    ids = [p.id for p in plan.passages]
    assert len(ids) == len(set(ids))
    for p in plan.passages:
        assert plan.text[p.start : p.end] == p.text
        assert 0 < len(p.text) <= 400
    mobile = next(p for p in plan.passages if p.text.startswith("加强移动污染源管控。"))
    assert mobile.section_path == "五、坚持综合施策，持续改善大气环境 > （二）强化大气多污染源综合治理"
    assert mobile.topic == "加强移动污染源管控。"


def test_box_items_are_passages_under_their_chapter(plan: ParsedDocument) -> None:
    item = next(p for p in plan.passages if p.text.startswith("超低排放治理工程："))
    assert item.kind == "box_item" and item.topic == "超低排放治理工程"
    assert item.section == ("五、坚持综合施策，持续改善大气环境", "专栏 3 大气环境提升重点工程")


def test_table_rows_are_passages_with_context(plan: ParsedDocument) -> None:
    rows = [p for p in plan.passages if p.kind == "table_row"]
    assert len(rows) == 19
    assert all(p.section[-1] == "廊坊市“十四五”生态环境保护主要指标" for p in rows)
    assert rows[0].section[:2] == ("二、锚定目标，精准把握生态环境保护总体要求", "（三）主要目标")


def test_blocks_keep_reading_order() -> None:
    raw = "标题\n\n一、第一章\n\n（一）第一节\n\n第一段前半\n\n后半。\n\n专栏 1 工程\n\n甲工程：内容。乙工程：内容。\n"
    kinds = [b.kind for b in split_blocks(raw)]
    assert kinds == ["title", "chapter", "section", "paragraph", "box", "paragraph"]
    assert split_blocks(raw)[3].text == "第一段前半后半。"
