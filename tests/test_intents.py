"""Every wording cue of service/data/intents.toml fires on its examples and not on its counters."""

from __future__ import annotations

import pytest

from service.intents import CUE_NAMES, IntentsError, load_intents, parse_intents

INTENTS = load_intents()
CUE_CASES = [(name, q, True) for name in CUE_NAMES for q in INTENTS.cues[name].examples] + [
    (name, q, False) for name in CUE_NAMES for q in INTENTS.cues[name].counter
]
VALUE_CASES = [(v.what, q, True) for v in INTENTS.values for q in v.examples] + [
    (v.what, q, False) for v in INTENTS.values for q in v.counter
]


def test_every_cue_has_examples_and_counter_examples() -> None:
    for cue in INTENTS.cues.values():
        assert cue.examples and cue.counter, cue.name
    for value in INTENTS.values:
        assert value.examples and value.counter, value.what


@pytest.mark.parametrize(("name", "question", "fires"), CUE_CASES)
def test_cue(name: str, question: str, fires: bool) -> None:
    assert INTENTS.has(name, question) is fires


@pytest.mark.parametrize(("what", "question", "fires"), VALUE_CASES)
def test_asked_value(what: str, question: str, fires: bool) -> None:
    found = INTENTS.asked_value(question)
    assert (found is not None and found.what == what) is fires


GIVES_CASES = [(v.what, t, True) for v in INTENTS.values for t in v.gives_examples] + [
    (v.what, t, False) for v in INTENTS.values for t in v.gives_counter
]


@pytest.mark.parametrize(("what", "source", "gives"), GIVES_CASES)
def test_value_given_by_source_text(what: str, source: str, gives: bool) -> None:
    kind = next(v for v in INTENTS.values if v.what == what)
    assert (kind.gives.search(source) is not None) is gives


def test_every_value_kind_has_source_examples() -> None:
    for value in INTENTS.values:
        assert value.gives_examples and value.gives_counter, value.what


def test_malformed_files_are_rejected() -> None:
    with pytest.raises(IntentsError, match="missing"):
        parse_intents({"cue": {}})
    cues = {n: {"words": ["x"]} for n in CUE_NAMES}
    with pytest.raises(IntentsError, match="valid pattern"):
        parse_intents({"cue": {**cues, "zone": {"patterns": ["("]}}})
    with pytest.raises(IntentsError, match="unknown cue"):
        parse_intents({"cue": {**cues, "mood": {"words": ["x"]}}})


@pytest.mark.parametrize(
    ("question", "source", "gives"),
    [
        ("累计淘汰了多少辆老旧车？", "淘汰老旧车辆2万辆", True),
        ("累计淘汰了多少辆老旧车？", "7个国省考核断面全部达标", False),
        ("要新建几座污水处理厂？", "建成3个污水处理厂", True),  # 个 often stands for 座
        ("养多少头猪以上算规模？", "存栏5000只以上", True),
        ("养多少头猪以上算规模？", "配备2名以上专职人员", False),
        ("建成多少个站？", "完成1936台燃气锅炉改造", True),  # asked with 个, any count answers
    ],
)
def test_a_count_is_given_with_the_measure_word_asked(question: str, source: str, gives: bool) -> None:
    kind = INTENTS.asked_value(question)
    assert kind is not None and kind.what == "数量"
    assert (kind.gives.search(source) is not None) is gives


def test_measures_need_a_place_in_the_gives_pattern() -> None:
    cues = {n: {"words": ["x"]} for n in CUE_NAMES}
    value = {"what": "数量", "asks": "多少个", "gives": "\\d+个", "measures": ["个"]}
    with pytest.raises(IntentsError, match="measure"):
        parse_intents({"cue": cues, "value": [value]})


def test_in_table_is_a_flag() -> None:
    cues = {n: {"words": ["x"]} for n in CUE_NAMES}
    value = {"what": "原因", "asks": "为什么", "gives": "因为", "in_table": "no"}
    with pytest.raises(IntentsError, match="in_table"):
        parse_intents({"cue": cues, "value": [value]})
    parsed = parse_intents({"cue": cues, "value": [{**value, "in_table": False}]})
    assert parsed.values[0].in_table is False
