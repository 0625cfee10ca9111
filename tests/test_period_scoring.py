"""Sentences of the plan's review of 十三五 rank first for a question about that period."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service.analyze import analyse
from service.answer import score_sentences

PLAN = "langfang-eco-plan"
REVIEW = ("一、接续奋进，开启廊坊市生态环境保护新征程", "（一）取得历史性成就")
TASKS = ("七、强化协同防控，保障土壤环境安全", "（一）推进土壤污染源头管控")


def _hits() -> list[Hit]:
    task = "加强涉重金属行业企业的环境监管，严格落实重金属减排要求。"
    done = "开展涉重金属行业企业排查整治专项行动，完成各年度重金属减排目标。"
    a = Passage("p:1", PLAN, TASKS, task, 0, len(task))
    b = Passage("p:2", PLAN, REVIEW, done, 0, len(done))
    return [Hit(a, 1.0, 1, "规划"), Hit(b, 0.9, 2, "规划")]


def test_a_question_about_13th_plan_results_ranks_the_review_first() -> None:
    q = analyse("“十三五”期间重金属减排搞了哪些行动？", {})
    assert q.period == "past"
    assert score_sentences(q, _hits(), {})[0].hit.passage.section == REVIEW


def test_without_the_period_retrieval_order_stands() -> None:
    q = analyse("重金属减排有哪些行动？", {})
    assert q.period == ""
    assert score_sentences(q, _hits(), {})[0].hit.passage.section == TASKS


def test_a_question_about_what_the_plan_admits_ranks_its_problems_first() -> None:
    tasks = "健全农村污水治理设施长效运行机制，加强运行维护。"
    problems = "农村清洁取暖和垃圾污水治理长效运行机制有待完善。"
    section = ("一、接续奋进，开启廊坊市生态环境保护新征程", "（三）面临问题和挑战")
    a = Passage("p:1", PLAN, TASKS, tasks, 0, len(tasks))
    b = Passage("p:2", PLAN, section, problems, 0, len(problems))
    hits = [Hit(a, 1.0, 1, "规划"), Hit(b, 0.9, 2, "规划")]
    q = analyse("规划有没有承认农村污水设施长效运行这块的毛病？", {})
    assert q.asks_problems
    assert score_sentences(q, hits, {})[0].hit.passage.section == section
    q = analyse("农村污水设施长效运行怎么保障？", {})
    assert not q.asks_problems and score_sentences(q, hits, {})[0].hit.passage.section == TASKS
