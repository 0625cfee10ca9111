"""Abbreviations learnt from document text (no model)."""

from __future__ import annotations

from indexer.abbrev import contractions, defined, derive, expansions, latin


def test_definitions_take_the_spelled_out_tail() -> None:
    text = "重点排放单位应当编制上一年度温室气体排放报告（以下简称年度排放报告），报送主管部门。"
    assert defined([text]) == [("年度排放报告", "年度温室气体排放报告")]


def test_a_definition_identical_to_its_source_adds_nothing() -> None:
    assert defined(["编制有关专项规划（以下简称专项规划）。"]) == []


def test_latin_abbreviations_take_a_tail_the_corpus_uses_again() -> None:
    texts = ["深化工业源挥发性有机物（VOCs）治理。", "加强挥发性有机物排放管控。"]
    assert latin(texts) == [("VOCs", "挥发性有机物")]


def test_latin_abbreviation_without_reuse_takes_the_shortest_word_tail() -> None:
    pairs = latin(["实施城市水质指数（CWQI）排名。"])
    assert pairs and pairs[0][0] == "CWQI" and pairs[0][1].endswith("指数") and len(pairs[0][1]) >= 3


def test_contractions_need_both_forms_in_use() -> None:
    texts = ["危险废物集中处置。危险废物经营许可。", "危废处置能力。加强危废监管。"]
    assert ("危废", "危险废物") in contractions(texts)
    assert ("危废", "危险废物") not in contractions(texts[:1])


def test_a_much_commoner_word_is_not_a_contraction() -> None:
    texts = ["产品生产过程。产品生产环节。"] + ["产生废物。"] * 10
    assert all(full != "产品生产" for _, full in contractions(texts))


def test_article_numbers_are_not_terms() -> None:
    texts = ["第十一条 规定。第十一条 又规定。第一 第一"]
    assert contractions(texts) == []


def test_expansions_go_both_ways_and_skip_what_is_there() -> None:
    pairs = derive(["深化挥发性有机物（VOCs）治理，挥发性有机物减排。"])
    assert expansions("VOCs怎么治理", pairs) == ["挥发性有机物"]
    assert expansions("ｖｏｃｓ怎么治理", pairs) == ["挥发性有机物"]
    assert expansions("挥发性有机物的目标", pairs) == ["vocs"]
    assert expansions("挥发性有机物（VOCs）", pairs) == []
    assert expansions("秸秆禁烧", pairs) == []
