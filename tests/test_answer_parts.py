"""Fast unit tests of the answer engine's parts: multi-part splitting, places, decide, render.

No model and no index: records are built by hand, so each stage is checked in isolation.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from indexer.records import Hit, Passage
from service import decide, wording
from service.analyze import analyse
from service.answer import Scored, coverage
from service.draft import Draft, Line, Piece, quoted, render
from service.intents import load_intents
from service.parts import split_parts
from service.places import find_places
from service.targets import Target

TITLES = {"langfang-eco-plan": "廊坊市“十四五”生态环境保护规划", "water-law": "中华人民共和国水法"}
ASK = load_intents().cues["ask"].pattern
SCENE = load_intents().cues["scene"].pattern


def _hit(text: str, rank: int = 1, pid: str = "p:1") -> Hit:
    p = Passage(pid, "langfang-eco-plan", ("一、总则",), text, 0, len(text))
    return Hit(p, 1.0, rank, TITLES["langfang-eco-plan"])


# ---- parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("2025年PM2.5和优良天数比率的目标分别是多少？", ["PM2.5", "优良天数比率"]),
        ("三河市和香河县各要做什么？", ["三河市", "香河县"]),
        ("SO2、NOx和VOCs各要减多少？", ["SO2", "NOx", "VOCs"]),
        ("农村污水处理的目标和完成时间各是什么？", ["目标", "完成时间"]),
    ],
)
def test_joined_items_become_parts_that_keep_the_shared_context(question: str, labels: list[str]) -> None:
    parts = split_parts(question, ASK)
    assert [p.label for p in parts] == labels
    for part, label in zip(parts, labels, strict=True):
        assert label in part.question
        assert all(other not in part.question for other in labels if other != label and other not in label)
    assert all(p.question.endswith(question[-4:]) for p in parts)  # the asking end is kept


def test_asking_clauses_become_parts_after_the_scene() -> None:
    q = "我开了个饭馆，油烟要装什么设备，污水能不能直接排到下水道，各说一下"
    parts = split_parts(q, ASK)
    assert len(parts) == 2
    assert all(p.question.startswith("我开了个饭馆，") for p in parts)
    assert "油烟" in parts[0].question and "污水" in parts[1].question
    # Each part also holds its own words without the shared scene, to be asked alone.
    assert parts[0].own == "油烟要装什么设备，"
    assert parts[1].own.endswith("污水能不能直接排到下水道，") and "饭馆" not in parts[1].own
    assert all(p.own == "" for p in split_parts("排污许可证有效期多长，过期了要怎么办，分别说一下", ASK))


def test_a_short_follow_up_keeps_the_first_clause() -> None:
    parts = split_parts("排污许可证有效期多长，过期了要怎么办，分别说一下", ASK)
    assert len(parts) == 2 and "排污许可证" in parts[1].question


def test_a_longer_part_keeps_the_subject_named_in_the_first_clause() -> None:
    parts = split_parts("排污许可证的有效期是几年？企业在有效期届满后还要继续排污应当怎么办？", ASK, SCENE)
    assert len(parts) == 2 and "排污许可证的有效期" in parts[1].question
    # The first clause's question word stays with the first part.
    assert "几年" not in parts[1].question
    # A clause naming the law is no scene of the asker's own: the subject is still carried.
    parts = split_parts("按照水法，取水许可证的有效期是几年？到期前要提前多少天申请延续？", ASK, SCENE)
    assert len(parts) == 2 and "取水许可证" in parts[1].question
    # After a scene of the asker's own, that scene carries the subject; the first ask is not repeated.
    parts = split_parts("我们厂拿了块地。现在要做什么处理？要是拖过三个月还开不了工怎么办？", ASK, SCENE)
    assert len(parts) == 2 and "处理" not in parts[1].question


def test_a_scene_sentence_is_never_a_part() -> None:
    # "这几年" holds a question word, but the sentence ends with 。: it sets the scene.
    q = "这几年河水清了不少。去年全市断面达标率是多少？比前年高了几个点？"
    parts = split_parts(q, ASK)
    assert [p.label for p in parts] == ["去年全市断面达标率是多少", "比前年高了几个点"]
    assert all(p.question.startswith("这几年河水清了不少。") for p in parts)


def test_items_joined_in_the_scene_are_not_split() -> None:
    # The 、 and 还有 set the scene; the question asks one thing.
    assert split_parts("我们做收集、贮存的生意，隔壁还有人搞运输，要办什么证？", ASK) == ()
    # Two asks: split by clause, not at the 、 of the scene.
    parts = split_parts("我们做收集、贮存的生意，东西最长能放多久？要延长找谁批？", ASK)
    assert len(parts) == 2 and all("收集、贮存" in p.question for p in parts)


def test_single_questions_have_no_parts() -> None:
    assert split_parts("PM2.5目标是多少？", ASK) == ()
    assert analyse("PM2.5目标是多少？", TITLES).parts == ()
    assert len(analyse("PM2.5和优良天数比率分别是多少？", TITLES).parts) == 2


# ---- places -----------------------------------------------------------------------------


def test_places_need_a_suffix_or_a_word_of_their_own() -> None:
    assert find_places("石家庄市的PM2.5目标是多少？", frozenset()) == ("石家庄",)
    assert find_places("企业要确保定期监测吗", frozenset({"确保", "定期"})) == ()
    assert find_places("保定和沧州的目标", frozenset({"保定", "沧州"})) == ("保定", "沧州")


def test_every_listed_place_is_found_in_a_question() -> None:
    from service.places import place_names

    for name in place_names():
        assert name in find_places(f"请问{name}市的空气质量目标是多少？", frozenset()), name


def test_langfang_counties_are_not_outside_places() -> None:
    q = analyse("三河市和香河县各要做什么？", TITLES)
    assert q.places == ()


def test_a_question_set_in_langfang_reads_places_from_its_asking_clause_only() -> None:
    scene = analyse("我们廊坊这边离大兴机场近，林带要修多宽？", TITLES)
    assert scene.home and scene.places == ()
    joint = analyse("香河县和通州区一体化发展要做什么？", TITLES)
    assert joint.home and joint.places == ("通州区",)
    away = analyse("离大兴机场近的村子，林带要修多宽？", TITLES)
    assert not away.home and away.places == ("大兴",)


def test_in_a_langfang_question_a_place_the_corpus_names_is_subject_matter() -> None:
    q = analyse("香河县和通州区一体化发展要做什么？", TITLES)
    hits = [_hit("香河县推进产业协同。")]  # the passages retrieved do not name 通州
    idf = {"香河": 3.0, "一体化": 3.0}
    assert decide.screen(q, hits, idf, covered=frozenset({"通州区"})) is None
    assert decide.screen(q, hits, idf, covered=frozenset({"通州"})) == wording.outside_place("通州区")
    assert decide.screen(q, hits, idf, covered=frozenset()) == wording.outside_place("通州区")


def test_in_a_langfang_question_a_place_the_corpus_never_names_is_declined() -> None:
    q = analyse("廊坊的规划对保定市的扬尘治理有什么要求？", TITLES)
    assert q.home and q.places == ("保定",)
    hits = [_hit("廊坊市加强施工扬尘治理。")]
    assert decide.screen(q, hits, {"扬尘": 3.0}, covered=frozenset({"通州"})) == wording.outside_place("保定")


def test_covered_places_are_the_listed_places_the_texts_name() -> None:
    from service.places import covered_places

    texts = ["推动北三县与北京通州区一体化高质量发展。", "大理石加工企业"]
    assert {"通州", "北京"} <= covered_places(texts)
    assert "保定" not in covered_places(texts)


# ---- decide -----------------------------------------------------------------------------


def test_screen_declines_an_outside_place_the_passages_never_name() -> None:
    q = analyse("石家庄市2025年PM2.5目标是多少？", TITLES)
    hits = [_hit("到2025年，廊坊市PM2.5浓度降至35微克/立方米。")]
    assert decide.screen(q, hits, {"pm2.5": 3.0}) == wording.outside_place("石家庄")


def test_screen_lets_a_named_place_through_when_passages_speak_of_it() -> None:
    q = analyse("和北京通州一体化发展有什么要求？", TITLES)
    hits = [_hit("推动北三县与北京通州区一体化高质量发展。")]
    assert decide.screen(q, hits, {"一体化": 3.0, "通州": 4.0, "北京": 3.0}) is None


def test_latin_short_forms_the_table_knows_are_spelled_out_not_declined() -> None:
    q = analyse("COD重点工程减排量是多少？", TITLES)
    assert q.technical == () and "COD（化学需氧量）" in q.search_text
    # One the table does not know stays a name the documents must use themselves, also when it
    # is a piece of one the table knows (CO of COD).
    assert analyse("PM10目标是多少？", TITLES).technical == ("PM10",)
    co = analyse("CO排放要降多少？", TITLES)
    assert co.technical == ("CO",) and co.search_text == "CO排放要降多少？"


def test_a_technical_name_only_in_the_askers_scene_is_not_the_subject() -> None:
    # The asker's own trade (a foam made with HCFC-141b) sets the scene; the fine is what is asked.
    q = analyse("我在一家用HCFC-141b做发泡剂的厂管生产，一直没采取防泄漏措施。罚款是多少？", TITLES)
    assert q.technical == ()
    told = analyse("前段时间把几十罐R22冷媒卖给了一个散户师傅。这种情况罚款怎么算？", TITLES)
    assert told.technical == ()
    assert "HCFC" in analyse("HCFC-141b什么时候淘汰？", TITLES).technical


def test_screen_declines_unknown_technical_names_and_years() -> None:
    hits = [_hit("到2025年，PM2.5浓度降至35微克/立方米。")]
    assert decide.screen(analyse("PM10目标是多少？", TITLES), hits, {"pm2.5": 3.0}) == wording.unknown_name(
        "PM10"
    )
    assert decide.screen(analyse("2030年目标是多少？", TITLES), hits, {}) == wording.no_year("2030")


def _draft(*sources: str) -> Draft:
    lines = [Line("sentence", (Piece(s, _hit(s, pid=f"p:{i}"), "。", s),)) for i, s in enumerate(sources)]
    return Draft(tuple(lines))


def test_check_reads_the_sources_not_the_answer_wording() -> None:
    q = analyse("违反规定罚款多少钱？", TITLES)
    assert decide.check(q, _draft("处一万元以上十万元以下的罚款")) is None
    assert decide.check(q, _draft("责令改正")) == wording.missing_value("金额")
    # Framing words around a quote never count as the value.
    framed = Draft(
        (Line("sentence", (Piece("罚款10万元"), Piece("责令改正", _hit("责令改正"), "。", "责令改正"))),)
    )
    assert decide.check(q, framed) == wording.missing_value("金额")


def test_check_wants_a_number_in_the_first_piece_for_a_bare_how_many() -> None:
    q = analyse("要建多少管网？", TITLES)
    assert q.asked_value is None and q.asks_amount
    assert decide.check(q, _draft("新建管网120公里")) is None
    assert decide.check(q, _draft("加快管网建设", "新建管网120公里")) == wording.MISSING_NUMBER
    # Asked with its unit, the value kind names what is missing.
    q = analyse("要建多少公里的管网？", TITLES)
    assert decide.check(q, _draft("新建管网120公里")) is None
    assert decide.check(q, _draft("加快管网建设", "新建管网120公里")) == wording.missing_value("长度")


def test_a_place_named_in_passing_does_not_answer_for_it() -> None:
    q = analyse("规划给北京市通州区定的地表水考核目标是什么？", TITLES)
    idf = {"地表水": 4.0, "考核": 3.0, "北京": 3.0, "通州": 4.0}
    passing = "推动与北京市通州区一体化高质量发展，重点加强京津交界区生态空间建设。"
    assert decide.check(q, _draft(passing), idf=idf) == wording.outside_place("北京")
    # The sentence that names the place also speaks of what is asked: it answers.
    own = "北京市通州区地表水考核断面水质达到Ⅳ类。"
    assert decide.check(q, _draft(own), idf=idf) is None


def test_years_and_titles_are_not_the_number_asked_for() -> None:
    q = analyse("要压减多少地下水开采量？", TITLES)
    assert decide.check(q, _draft("严格落实《地下水超采综合治理规划（2014—2030）》，逐步压减开采量")) == (
        wording.MISSING_NUMBER
    )
    assert decide.check(q, _draft("2014—2030年逐步压减开采量")) == wording.MISSING_NUMBER
    assert decide.check(q, _draft("2025年前压减开采量1.2亿立方米")) is None
    # A technical name carries digits, not an amount.
    q = analyse("臭氧浓度目标是多少？", TITLES)
    assert decide.check(q, _draft("推动VOCs、NOx、PM2.5与臭氧协同控制")) == wording.MISSING_NUMBER
    assert decide.check(q, _draft("臭氧浓度控制在160微克/立方米")) is None
    # Four digits that are no year: a count.
    assert decide.check(analyse("登记备案了多少家？", TITLES), _draft("完成1904家企业登记备案")) is None


@pytest.mark.parametrize(
    ("question", "missing", "giving", "what"),
    [
        (
            "法律说的夜间是几点到几点？",
            "禁止夜间进行建筑施工作业",
            "夜间是指晚上十点至次日早晨六点之间的期间",
            "时刻",
        ),
        ("基坑挖多深要备案？", "开挖深度由省级人民政府制定、公布", "开挖深度超过10米的，应当备案", "长度"),
        ("转移联单一式几联？", "应当填写危险废物转移联单", "转移联单一式五联", "数量"),
        ("在用机动车多久检一次尾气？", "定期对其进行排放检验", "每年进行一次排放检验", "频次"),
    ],
)
def test_a_source_must_give_the_kind_of_value_asked(
    question: str, missing: str, giving: str, what: str
) -> None:
    q = analyse(question, TITLES)
    assert decide.check(q, _draft(missing)) == wording.missing_value(what)
    assert decide.check(q, _draft(giving)) is None


def _row(baseline: str) -> Draft:
    t = Target("t1", "地表水达到或好于Ⅲ类水体比例", "60", "%", "2025", baseline, "约束性")
    return Draft((Line("indicator", (Piece("…", _hit("表"), "。", "表"),), t),))


def test_a_table_row_answers_only_the_years_it_has_values_for() -> None:
    asked_2020 = analyse("2020年地表水达到或好于Ⅲ类水体比例是多少？", TITLES)
    assert decide.check(asked_2020, _row("")) == wording.no_year_value("2020")
    assert decide.check(asked_2020, _row("-")) == wording.no_year_value("2020")
    assert decide.check(asked_2020, _row("55")) is None
    assert decide.check(analyse("2025年地表水达到或好于Ⅲ类水体比例是多少？", TITLES), _row("")) is None
    assert decide.check(analyse("地表水达到或好于Ⅲ类水体比例是多少？", TITLES), _row("")) is None
    # The 2025 target the asker already knows does not answer the 2020 value the asking clause wants.
    known_2025 = analyse("规划说到2025年地表水Ⅲ类水体比例要达到目标，那2020年的时候是多少？", TITLES)
    assert decide.check(known_2025, _row("-")) == wording.no_year_value("2020")
    assert decide.check(known_2025, _row("55")) is None


def test_a_table_row_gives_a_figure_not_a_reason() -> None:
    why = analyse("地表水Ⅲ类水体比例目标定为60%，这个60是根据什么定的，为什么不定得更高？", TITLES)
    assert why.asked_value is not None and not why.asked_value.in_table
    assert decide.check(why, _row("55")) == wording.missing_value("原因")
    share = analyse("地表水达到或好于Ⅲ类水体比例要达到多大比例？", TITLES)
    assert share.asked_value is not None and share.asked_value.in_table
    assert decide.check(share, _row("55")) is None


def test_empty_draft_is_declined() -> None:
    assert decide.check(analyse("怎么办？", TITLES), Draft(())) == ""


# ---- render -----------------------------------------------------------------------------


def test_render_numbers_passages_in_order_of_first_use_and_quotes_verbatim() -> None:
    a, b = _hit("甲句。乙句。", pid="p:a"), _hit("丙句。", rank=2, pid="p:b")
    s1, s2 = Scored(b, 0, 3, 1.0), Scored(a, 3, 6, 0.9)
    draft = Draft((Line("sentence", (quoted(s1),)), Line("sentence", (quoted(s2),))))
    out = render(draft, [a, b, _hit("丁。", rank=3, pid="p:c")], top_k=3)
    assert out.text == "丙句[1]。乙句[2]。"
    assert [c.hit.passage.id for c in out.citations] == ["p:b", "p:a", "p:c"]
    assert out.citations[1].quote == "乙句。"
    assert all(c.quote in c.hit.passage.text for c in out.citations)


def test_value_kind_is_read_from_the_asking_clause_not_the_scene() -> None:
    q = analyse("我们几个人想去湖边的湿地放生一批巴西龟，这样做行不行？", TITLES)
    assert q.asked_value is None and not q.wants_number
    assert analyse("我们是一家社区诊所，医疗废物最多能暂存几天？", TITLES).asked_value is not None


def test_short_titles_count_in_title_marks_only() -> None:
    assert analyse("按照《水法》，设排污口会怎样？", TITLES).doc_ids == ("water-law",)
    assert analyse("水法规定了什么？", TITLES).doc_ids == ()


def test_a_place_inside_a_longer_word_is_not_named() -> None:
    assert analyse("装修用大理石台面有辐射吗？", TITLES).places == ()


# ---- sector answers ---------------------------------------------------------------------


def test_sector_lines_are_ordered_with_the_retrieved_ones_by_score() -> None:
    from service.answer import Scored
    from service.compose import by_score
    from service.draft import quoted

    def line(text: str, score: float) -> Line:
        return Line("sentence", (quoted(Scored(_hit(text), 0, len(text), score)),))

    retrieved, naming_the_trade, weak = (
        line("加强扬尘管控。", 1.1),
        line("印刷企业实施深度治理。", 1.6),
        line("其他。", 0.2),
    )
    assert by_score([retrieved, weak, naming_the_trade]) == [naming_the_trade, retrieved, weak]
    framing = Line("label", (Piece("（1）"),))  # no quoted source: scores lowest
    assert by_score([framing, retrieved])[0] == retrieved


def test_sector_sentences_keep_the_rank_retrieval_gave_their_passage() -> None:
    from service.compose.sector import sector_lines

    class Ctx:
        def __init__(self) -> None:
            self.idf = {"印刷": 4.0, "治理": 2.0}

        def sector_passages(self, sector):  # type: ignore[no-untyped-def]
            return [found.passage, other.passage]

        def hit(self, passage, score=0.0, rank=99):  # type: ignore[no-untyped-def]
            return Hit(passage, score, rank, "")

    found = _hit("印刷企业完成挥发性有机物治理。", rank=0, pid="p:found")
    other = _hit("印刷企业推进清洁生产。", rank=5, pid="p:other")
    q = analyse("我们是印刷厂，有什么要求？", TITLES)
    assert q.sector is not None
    lines = sector_lines(Ctx(), q, (), [found])  # type: ignore[arg-type]
    ranks = {p.hit.passage.id: p.hit.rank for line in lines for p in line.pieces if p.hit is not None}
    assert ranks == {"p:found": 0, "p:other": 99}


# ---- weights ----------------------------------------------------------------------------


def test_a_word_the_corpus_never_uses_weighs_like_its_commonest_word() -> None:
    from service.pipeline import _Idf, compute_idf

    texts = ["湿地保护", "湿地放生外来物种", "湿地公园建设", "噪声管理"]
    passages = [
        Passage(f"p:{i}", "langfang-eco-plan", ("一、总则",), t, 0, len(t)) for i, t in enumerate(texts)
    ]
    idf = _Idf(compute_idf(passages))
    seen = {k: v for k, v in idf.items() if k != "__unseen__"}
    assert idf.get("巴西龟") == min(seen.values())  # 总则 heads every passage: the commonest word
    assert idf.get("巴西龟") < idf.get("湿地") < idf.get("噪声")
    # So a passage that shares the question's corpus words is not outweighed by one unknown word.
    assert coverage("湿地放生外来物种", [("湿地",), ("放生",), ("巴西龟",)], idf) > 0.5


def test_the_sentence_giving_the_asked_value_outranks_its_neighbour() -> None:
    from service.answer import score_sentences

    # Both sentences share the offence's words; only the second gives an amount, which 罚多少 asks.
    text = "露天焚烧秸秆产生烟尘污染的，由主管部门责令改正。露天焚烧秸秆的，处五百元以上二千元以下的罚款。"
    query = analyse("露天焚烧秸秆罚多少？", TITLES)
    assert query.asked_value is not None
    ranked = score_sentences(query, [_hit(text)], {})
    assert "五百元" in ranked[0].text


def test_a_penalty_question_prefers_the_article_setting_the_fine() -> None:
    from service.answer import score_sentences

    # The fine restates the offence; retrieval ranked the duty first, as it often does.
    duty = Passage(
        "law:a43",
        "noise-law",
        ("第四章 施工噪声", "第四十三条"),
        "夜间禁止进行产生噪声的建筑施工作业。",
        0,
        20,
    )
    fine = Passage(
        "law:a77",
        "noise-law",
        ("第八章 法律责任", "第七十七条"),
        "未取得证明，夜间进行产生噪声的建筑施工作业的，处一万元以上十万元以下的罚款。",
        0,
        40,
    )
    hits = [Hit(duty, 1.0, 1, "噪声法"), Hit(fine, 0.5, 2, "噪声法")]
    asking = score_sentences(analyse("夜间建筑施工作业会怎么罚？", TITLES), hits, {})
    assert asking[0].hit.passage.id == "law:a77"
    # Asked about the duty itself, the duty article leads.
    duty_first = score_sentences(analyse("夜间可以进行建筑施工作业吗？", TITLES), hits, {})
    assert duty_first[0].hit.passage.id == "law:a43"
    # Ranked fourth, below a duty article that covers the question as well, the fine still leads:
    # on a question about a penalty, an article outside 法律责任 loses what a penalty article
    # loses on a question about a duty.
    duty2 = replace(
        duty,
        id="law:a44",
        kind="article",
        text="夜间进行产生噪声的建筑施工作业的，应当取得证明，并公告附近居民。",
    )
    far = [Hit(duty2, 1.0, 1, "噪声法"), Hit(replace(fine, kind="article"), 0.5, 4, "噪声法")]
    question = analyse("夜间进行建筑施工作业没取得证明，附近居民投诉了，会怎么罚？", TITLES)
    assert score_sentences(question, far, {})[0].hit.passage.id == "law:a77"


@pytest.mark.parametrize(
    ("question", "county"),
    [
        ("我在霸州开个小家具厂，规划对喷涂、溶剂这类废气治理有什么要求？", None),
        ("我们公司要在开发区建个新厂房，做环评的单位该由谁来选？", None),
        ("我住在三河市，我们这儿要完成哪些目标？", "三河市"),
        ("永清县所在的功能区，围绕机场周边要建多宽的密植林带？", "永清县"),
        ("三河市要完成哪些目标？", "三河市"),
    ],
)
def test_a_county_named_only_in_the_askers_scene_is_not_the_subject(
    question: str, county: str | None
) -> None:
    q = analyse(question, TITLES)
    assert (q.county.name if q.county else None) == county
    assert q.home  # either way the question is set in the plan's city


def test_a_value_asked_about_a_short_form_comes_from_a_sentence_naming_it() -> None:
    q = analyse("挥发性有机物（VOCs）的排放量削减了百分之多少？", TITLES)
    assert q.named_forms == (("vocs",),)
    spellings = [("vocs", "挥发性有机物")]
    others = _draft("化学需氧量、二氧化硫的排放量分别削减了20.48%、69.85%")
    assert decide.check(q, others, spellings=spellings) == wording.MISSING_NUMBER
    # Either spelling names it.
    assert decide.check(q, _draft("挥发性有机物排放量削减了25%"), spellings=spellings) is None
    assert decide.check(q, _draft("VOCs排放量削减了25%"), spellings=spellings) is None
