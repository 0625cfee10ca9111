"""Fast tests of the checks that a draft speaks of what the question names: a quoted name, the
year a value is asked for, a district given with its suffix. No model and no index."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service import decide, wording
from service.analyze import analyse
from service.draft import Draft, Line, Piece
from service.places import covered_places, find_places

TITLES = {"langfang-eco-plan": "廊坊市“十四五”生态环境保护规划"}


def _draft(*sources: str) -> Draft:
    lines = []
    for i, s in enumerate(sources):
        p = Passage(f"p:{i}", "langfang-eco-plan", ("一、总则",), s, 0, len(s))
        hit = Hit(p, 1.0, i + 1, TITLES["langfang-eco-plan"])
        lines.append(Line("sentence", (Piece(s, hit, "。", s),)))
    return Draft(tuple(lines))


def test_quoted_names_leave_out_the_names_of_a_period() -> None:
    q = analyse("“十四五”期间“绿色学校”要创建多少所？", TITLES)
    assert q.quoted == ("绿色学校",)
    assert analyse("“十三五”末建了几个站？", TITLES).quoted == ()
    assert analyse("绿色学校要建多少所？", TITLES).quoted == ()


def test_a_quoted_name_must_be_in_the_passages_the_answer_rests_on() -> None:
    q = analyse("廊坊是哪一年获得“国家森林城市”称号的？", TITLES)
    elsewhere = "2020年空气质量综合排名大幅进位。"
    assert decide.check(q, _draft(elsewhere), quoted=q.quoted) == wording.quoted_missing("国家森林城市")
    assert decide.check(q, _draft("2019年，廊坊获得国家森林城市称号。"), quoted=q.quoted) is None
    # A quoted name the corpus never uses is not held against the passages (the caller passes
    # only names the corpus holds): the asker's own word (“夜里”) may stand for a formal one.
    assert decide.check(q, _draft(elsewhere), quoted=()) is None


def test_a_value_asked_for_a_named_year_comes_from_a_sentence_of_that_year() -> None:
    q = analyse("2020年声环境功能区夜间达标率是多少？", TITLES)
    target = "到2025年，声环境功能区夜间达标率达到85%以上。"
    assert decide.check(q, _draft(target)) == wording.no_year_value_text("2020")
    assert decide.check(q, _draft("2020年，声环境功能区夜间达标率为80%。")) is None
    # Without a year, the target sentence answers.
    assert decide.check(analyse("声环境功能区夜间达标率是多少？", TITLES), _draft(target)) is None


def test_the_year_asked_for_is_the_one_in_the_asking_clause() -> None:
    q = analyse("规划说到2025年新能源车比例不低于80%，那2020年的时候这类车占多少？", TITLES)
    assert q.years == ("2025", "2020") and q.ask_years == ("2020",)
    target = "到2025年，新能源和清洁能源汽车比例不低于80%。"
    # The year the asker already knows is in the sentence; the one asked for is not.
    assert decide.check(q, _draft(target)) == wording.no_year_value_text("2020")
    assert decide.check(q, _draft("2020年，新能源和清洁能源汽车比例为35%。")) is None
    # A year in a clause before the ask still counts when the asking clause names none.
    q = analyse("到2025年，新能源汽车比例要达到多少？", TITLES)
    assert q.ask_years == () and decide.check(q, _draft(target)) is None


def test_a_district_named_with_its_suffix_keeps_it() -> None:
    assert find_places("北京市大兴区有什么要求？", frozenset()) == ("北京", "大兴区")
    assert find_places("大兴的机场", frozenset({"大兴"})) == ("大兴",)
    covered = covered_places(["大兴国际机场投入运行，推动与北京市通州区一体化发展。"])
    assert {"大兴", "通州", "通州区", "北京"} <= covered
    assert "大兴区" not in covered


def test_a_joined_short_form_covers_each_place_it_names() -> None:
    covered = covered_places(["推动京津冀生态环境联建联防联治。"])
    assert {"北京", "天津", "河北"} <= covered
    assert "天津" not in covered_places(["推动与北京市通州区一体化发展。"])
    # A question set in 廊坊 about working with 天津 is then not declined for naming it.
    q = analyse("廊坊和天津在生态环境上怎么合作？", TITLES)
    assert q.home and "天津" in q.places
    assert decide._subjects(q, covered) == ()
    assert decide._subjects(q, frozenset()) == ("天津",)


def test_a_district_only_named_inside_a_facility_is_declined() -> None:
    q = analyse("廊坊这个规划对北京市大兴区提出了哪些大气污染治理要求？", TITLES)
    covered = covered_places(["北京大兴国际机场周边加强大气污染治理。"])
    airport = _draft("大兴国际机场周边加强大气污染治理。")
    hits = [line.pieces[0].hit for line in airport.lines if line.pieces[0].hit is not None]
    assert decide.screen(q, hits, {"大气": 3.0, "污染": 2.0, "治理": 2.0}, covered) == (
        wording.outside_place("大兴区")
    )


def test_the_value_asked_about_a_quoted_name_stands_beside_it() -> None:
    q = analyse("规划要求在哪一年之前建成“无废城市”？", TITLES)
    apart = _draft("2025年前，各县建成区基本消除裸露地面。", "积极开展“无废城市”建设。")
    assert decide.check(q, apart, quoted=q.quoted) == wording.missing_value("时间")
    together = _draft("到2025年，基本建成“无废城市”。")
    assert decide.check(q, together, quoted=q.quoted) is None


def test_the_askers_own_figure_does_not_answer() -> None:
    q = analyse("听说全市治污水一共投了12亿元，那治扬尘投了多少钱？", TITLES)
    assert q.known_numbers == ("12",)
    water = "全市污水治理累计投资12亿元。"
    assert decide.check(q, _draft(water)) == wording.missing_value("金额")
    # A sentence with another amount is judged as before.
    assert decide.check(q, _draft("全市扬尘治理累计投资3亿元。")) is None
    # Years and the figures of names are not figures the asker states.
    assert analyse("2020年PM2.5是42，到2025年要降到多少？", TITLES).known_numbers == ("42",)
    assert analyse("PM2.5要降到多少？", TITLES).known_numbers == ()


def test_a_plan_value_comes_from_the_best_sentence() -> None:
    q = analyse("到2025年城区要有多大比例的面积建成海绵城市？", TITLES)
    assert q.asked_value is not None and q.asked_value.what == "比例"
    green, sweeping = (
        "到2025年，扩大城市建成区绿地面积，推进海绵城市建设。",
        "到2025年，建成区机扫率达到100%。",
    )
    assert decide.check(q, _draft(green, sweeping)) == wording.missing_value("比例")
    assert decide.check(q, _draft("到2025年，城市建成区40%以上面积达到海绵城市建设要求。", green)) is None
