"""A penalty question is declined when the law, as found, bans the act but its quoted penalty
article punishes another one. Fast: no model and no index."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service import decide, wording
from service.analyze import analyse
from service.draft import Draft, Line, Piece

LAW = "wetland-protection-law"
TITLES = {LAW: "中华人民共和国湿地保护法"}
DUTY = "第二十八条 禁止过度施肥、投药、投放饵料等污染湿地的种植养殖行为。"
OTHER_ACT = "第五十八条 违反本法规定，未编制修复方案修复湿地的，处十万元以上一百万元以下罚款。"
SAME_ACT = "第五十五条 违反本法规定，过度施肥、投药污染湿地的，处一万元以上十万元以下罚款。"
BY_NUMBER = "第五十五条 违反本法第二十八条规定的，处一万元以上十万元以下罚款。"
QUESTION = "我在湿地边种菜，化肥撒得太多，这种过度施肥的罚多少钱？"
# The law's subject is its commonest word; the act's words are rare in it.
IDF = {"湿地": 0.5, "施肥": 3.0, "过度": 2.0}


def _piece(section: tuple[str, ...], text: str) -> Piece:
    p = Passage(f"{LAW}:{section[-1]}", LAW, section, text, 0, len(text), kind="article")
    return Piece(text, Hit(p, 1.0, 1, TITLES[LAW]), "。", text)


def _draft(penalty: str) -> Draft:
    article = Line("article", (_piece(("第六章 法律责任", penalty[:5]), penalty),))
    duty = Line("law", (_piece(("第三章 湿地保护与利用", "第二十八条"), DUTY),))
    return Draft((article, duty))


def test_a_penalty_for_another_act_does_not_answer() -> None:
    q = analyse(QUESTION, TITLES)
    assert q.asks_penalty
    assert decide.check(q, _draft(OTHER_ACT), idf=IDF) == wording.NO_PENALTY


def test_a_penalty_article_restating_the_act_or_naming_the_duty_answers() -> None:
    q = analyse(QUESTION, TITLES)
    assert decide.check(q, _draft(SAME_ACT), idf=IDF) is None
    assert decide.check(q, _draft(BY_NUMBER), idf=IDF) is None


def test_only_a_question_about_a_penalty_is_judged_so() -> None:
    q = analyse("在湿地边种菜，化肥能不能多撒？", TITLES)
    assert not q.asks_penalty
    assert decide.check(q, _draft(OTHER_ACT), idf=IDF) is None
    # A penalty article alone, without a duty beside it, is not judged by this rule.
    alone = Draft((_draft(OTHER_ACT).lines[0],))
    assert decide.check(analyse(QUESTION, TITLES), alone, idf=IDF) is None
