"""Query decomposition: every cue in indexer/data/clauses.toml, and the split it drives."""

from __future__ import annotations

import pytest

from indexer.decompose import decompose, load_cues, parse_cues, split_clauses

CUES = load_cues()


@pytest.mark.parametrize("word", CUES.ask_words)
def test_each_question_word_marks_an_asking_clause(word: str) -> None:
    d = decompose(f"我家旁边有个工厂，这个情况{word}，请说明")
    asking = [c for c in d.clauses if c.asks]
    assert [c.text for c in asking] == [f"这个情况{word}"]


@pytest.mark.parametrize("phrase", CUES.not_asking)
def test_each_non_asking_phrase_does_not_ask(phrase: str) -> None:
    d = decompose(f"{phrase}厂里排污，现在整改了。")
    assert not any(c.asks for c in d.clauses), d.clauses


@pytest.mark.parametrize("mark", CUES.ask_marks)
def test_each_question_mark_marks_an_asking_clause(mark: str) -> None:
    d = decompose(f"我们村的垃圾堆放点，归乡镇负责处理{mark}")
    assert [c.asks for c in d.clauses] == [False, True]


@pytest.mark.parametrize("opener", CUES.scene_openers)
def test_each_opener_marks_a_scene_clause(opener: str) -> None:
    d = decompose(f"{opener}有人焚烧秸秆，污染大气，规划里怎么管理？")
    assert [c.scene for c in d.clauses] == [True, False, False]
    assert d.ask == "规划里怎么管理" and d.core == "污染大气，规划里怎么管理"


@pytest.mark.parametrize("mark", CUES.split_marks)
def test_each_split_mark_ends_a_clause(mark: str) -> None:
    assert [c for c, _ in split_clauses(f"秸秆焚烧{mark}怎么处罚", CUES)] == ["秸秆焚烧", "怎么处罚"]


def test_the_enumeration_comma_does_not_split() -> None:
    assert [c for c, _ in split_clauses("油烟、噪声怎么管", CUES)] == ["油烟、噪声怎么管"]


def test_a_scene_opener_inside_an_asking_clause_is_not_a_scene() -> None:
    d = decompose("我家附近能不能建养猪场？")
    assert d.clauses[0].asks and not d.clauses[0].scene


def test_one_clause_questions_have_no_separate_ask() -> None:
    d = decompose("2025年PM2.5浓度目标是多少？")
    assert d.ask == "" and d.core == ""


def test_a_bare_form_clause_takes_in_the_clause_before_it() -> None:
    d = decompose("我家门口那条河，一直发黑发臭，有人管吗？")
    assert d.ask == "一直发黑发臭，有人管吗"
    d = decompose("我家门口那条河，一直发黑发臭，环保部门管吗？")
    assert d.ask == "环保部门管吗"
    d = decompose("隔壁开了家印刷厂，有什么要求？")
    # "有什么要求" is bare form: with its scene it would be the whole question again.
    assert d.ask == ""


def test_several_asking_clauses_are_all_kept() -> None:
    d = decompose("我是开饭馆的，油烟要装什么设备？多久清洗一次？")
    assert d.ask == "油烟要装什么设备，多久清洗一次"


def test_bad_cue_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="ask"):
        parse_cues(
            {
                "ask": {"words": [], "marks": ["？"], "not_asking": ["几乎"]},
                "scene": {"openers": ["我家"]},
                "split": {"marks": ["，"]},
            }
        )
    with pytest.raises(ValueError, match="scene"):
        parse_cues(
            {"ask": {"words": ["吗"], "marks": ["？"], "not_asking": ["几乎"]}, "split": {"marks": ["，"]}}
        )
