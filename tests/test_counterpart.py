"""A penalty question's answer quotes both halves of the law: the duty and what punishes it."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service.answer import Scored
from service.compose.general import counterpart_lines

LAW = "water-law"


def _scored(pid: str, section: tuple[str, ...], text: str, score: float, doc: str = LAW) -> Scored:
    p = Passage(pid, doc, section, text, 0, len(text), kind="article")
    return Scored(Hit(p, 1.0, 1, "水污染防治法"), 0, len(text), score)


PENALTY = _scored(
    "a:93",
    ("第七章 法律责任", "第九十三条"),
    "第九十三条 不按照规定制定应急方案的，处二万元以上十万元以下的罚款。",
    2.0,
)
DUTY = _scored(
    "a:78",
    ("第五章 水污染事故处置", "第七十八条"),
    "第七十八条 企业应当制定水污染事故的应急方案，并定期进行演练。",
    1.2,
)
OTHER_PENALTY = _scored(
    "a:94", ("第七章 法律责任", "第九十四条"), "第九十四条 造成水污染事故的，处以罚款。", 1.9
)


def test_a_penalty_article_is_joined_by_the_duty_it_punishes() -> None:
    (line,) = counterpart_lines(PENALTY, [PENALTY, OTHER_PENALTY, DUTY])
    assert line.kind == "law" and "第七十八条" in line.pieces[0].text
    assert "定期进行演练" in line.pieces[0].text and line.pieces[0].hit is DUTY.hit


def test_a_duty_article_is_joined_by_the_penalty_article() -> None:
    (line,) = counterpart_lines(DUTY, [DUTY, PENALTY])
    assert "第九十三条" in line.pieces[0].text


def test_no_counterpart_from_another_law_or_far_below_the_lead() -> None:
    elsewhere = _scored(
        "b:10", ("第二章 监督管理", "第十条"), "第十条 应当制定应急预案。", 1.9, doc="air-law"
    )
    assert counterpart_lines(PENALTY, [PENALTY, elsewhere]) == []
    weak = _scored("a:78", DUTY.hit.passage.section, DUTY.hit.passage.text, 0.5)
    assert counterpart_lines(PENALTY, [PENALTY, weak]) == []
