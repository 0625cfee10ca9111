"""A question about a penalty is answered by a statute's 法律责任 article, not by the plan's
sentence on the same works, unless it asks what the plan says."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service.analyze import analyse
from service.answer import score_sentences

PLAN_SECTION = ("四、“三水”统筹，打造良好水生态环境", "（一）保障水环境质量稳定达标")
PENALTY_SECTION = ("第七章 法律责任", "第八十三条")


def _hits() -> list[Hit]:
    plan = "推动园区企业废水预处理，完善工业园区污水处理厂管网。"
    law = "第八十三条 未按照规定进行预处理，向污水集中处理设施排放不符合处理工艺要求的工业废水的，责令改正或者责令限制生产、停产整治，并处十万元以上一百万元以下的罚款。"
    a = Passage("p:1", "langfang-eco-plan", PLAN_SECTION, plan, 0, len(plan))
    b = Passage("w:83", "water-pollution-prevention-law", PENALTY_SECTION, law, 0, len(law), kind="article")
    return [Hit(a, 1.0, 1, "规划"), Hit(b, 0.9, 2, "水污染防治法")]


def test_a_penalty_question_is_answered_by_the_penalty_article() -> None:
    q = analyse("我们厂的废水没经预处理就排进园区污水处理厂管网，要是被查到会怎么处理？", {})
    assert q.asks_penalty and not q.asks_plan
    assert score_sentences(q, _hits(), {})[0].hit.passage.section == PENALTY_SECTION


def test_a_question_about_the_plan_keeps_the_plan_first() -> None:
    q = analyse("规划里对废水没经预处理就排进园区污水处理厂管网的企业怎么处理？", {})
    assert q.asks_plan
    assert score_sentences(q, _hits(), {})[0].hit.passage.section == PLAN_SECTION
