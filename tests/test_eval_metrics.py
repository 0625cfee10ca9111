"""Pure scoring rules of the evaluation harness: hits, ranks, facts, abstention, floors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import metrics
from eval.report import check_floors, load_floors
from eval.runner import GoldError, GoldItem, load_gold, parse_modes, take


def test_normalise_folds_width_and_drops_every_whitespace() -> None:
    assert metrics.normalise("ＰＭ２．５ 浓度\t35\u3000微克\n/立方米") == "PM2.5浓度35微克/立方米"


def test_hit_rank_is_first_passage_containing_evidence() -> None:
    texts = ["无关内容", "PM2.5 浓度\t42\t35", "PM2.5浓度4235"]
    assert metrics.first_hit_rank(texts, ["PM2.5浓度 42 35"]) == 2


def test_hit_compares_after_nfkc_and_whitespace_removal() -> None:
    assert metrics.first_hit_rank(["到2025年，ＰＭ２．５\n浓度下降"], ["PM2.5浓度"]) == 1


def test_miss_returns_none_and_no_evidence_returns_none() -> None:
    assert metrics.first_hit_rank(["甲", "乙"], ["丙"]) is None
    assert metrics.first_hit_rank(["甲"], []) is None
    assert metrics.first_hit_rank(["甲"], ["  "]) is None


def test_several_evidence_strings_hit_at_first_rank_of_any() -> None:
    texts = ["第一段", "含有证据二", "含有证据一"]
    assert metrics.first_hit_rank(texts, ["证据一", "证据二"]) == 2


def test_split_evidence_counts_when_both_halves_are_returned() -> None:
    texts = ["不相关", "重点排污单位应当安装", "其他", "使用大气污染物排放自动监测设备"]
    # The evidence runs across the end of passage 2 and the start of passage 4.
    assert metrics.first_hit_rank(texts, ["应当安装、使用大气污染物"]) is None
    assert metrics.first_hit_rank(texts, ["应当安装使用大气污染物"]) == 4


def test_split_evidence_is_found_in_either_order() -> None:
    texts = ["后半段证据文字", "前半段"]
    assert metrics.first_hit_rank(texts, ["前半段后半段"]) == 2


def test_split_evidence_needs_both_halves_within_the_cutoff() -> None:
    texts = ["前半段", *["无关"] * 9, "后半段"]
    assert metrics.first_hit_rank(texts, ["前半段后半段"]) is None


def test_split_evidence_across_overlapping_chunks() -> None:
    # Chunkers with overlap repeat the seam; a plain join would duplicate it.
    left = "第十四条排污许可证有效期为5年。"
    right = "排污许可证有效期为5年。有效期届满需要继续排放污染物的"
    evidence = ["第十四条排污许可证有效期为5年。有效期届满"]
    assert evidence[0] not in left + right
    assert metrics.first_hit_rank([left, right], evidence) == 2
    assert metrics.first_hit_rank([right, left], evidence) == 2
    # A shared tail of one or two characters is no seam.
    assert metrics.first_hit_rank(["甲乙丙。", "。丁戊"], ["甲乙丙。丁戊"]) is None


def test_hit_at_and_reciprocal_rank() -> None:
    assert metrics.hit_at(1, 1) == 1.0
    assert metrics.hit_at(3, 1) == 0.0
    assert metrics.hit_at(None, 5) == 0.0
    assert metrics.reciprocal_rank(4) == pytest.approx(0.25)
    assert metrics.reciprocal_rank(11) == 0.0
    assert metrics.reciprocal_rank(None) == 0.0


def test_aggregate_retrieval_over_questions_with_evidence() -> None:
    rows = [
        {"type": "law", "scored_retrieval": True, "rank": 1},
        {"type": "law", "scored_retrieval": True, "rank": 3},
        {"type": "law", "scored_retrieval": True, "rank": None},
        {"type": "unanswerable", "scored_retrieval": False, "rank": None},
    ]
    agg = metrics.aggregate(rows)
    assert agg["n"] == 4 and agg["n_retrieval"] == 3
    assert agg["hit@1"] == pytest.approx(1 / 3)
    assert agg["hit@5"] == pytest.approx(2 / 3)
    assert agg["mrr"] == pytest.approx((1 + 1 / 3) / 3)
    assert agg["hit_curve"][:4] == pytest.approx([1 / 3, 1 / 3, 2 / 3, 2 / 3])
    assert len(agg["hit_curve"]) == 10


def test_key_facts_all_or_nothing_and_recall() -> None:
    assert metrics.fact_scores("目标为 35 微克/立方米，属约束性指标", ["35", "约束性"]) == (1.0, 1.0)
    assert metrics.fact_scores("目标为35微克/立方米", ["35", "约束性"]) == (0.0, 0.5)
    assert metrics.fact_scores("目标为３５", ["35"]) == (1.0, 1.0)
    assert metrics.fact_scores("任何文字", []) is None


def test_abstention_precision_and_recall() -> None:
    predicted = [True, True, False, False, True]
    actual = [True, False, True, False, True]
    precision, recall = metrics.precision_recall(predicted, actual)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert metrics.precision_recall([False, False], [True, False]) == (None, 0.0)
    assert metrics.precision_recall([True], [False]) == (0.0, None)


def test_aggregate_abstention_treats_unanswerable_as_positive() -> None:
    rows = [
        {"type": "unanswerable", "abstained": True},
        {"type": "unanswerable", "abstained": False},
        {"type": "law", "abstained": True},
        {"type": "law", "abstained": False},
        {"type": "county", "abstained": False},
    ]
    agg = metrics.aggregate(rows)
    assert agg["abstain_precision"] == pytest.approx(0.5)
    assert agg["abstain_recall"] == pytest.approx(0.5)


def test_section_match_ignores_whitespace_only() -> None:
    gold = "第二章 申请与审批 > 第十四条"
    assert metrics.section_match(["第二章申请与审批>第十四条"], gold)
    assert metrics.section_match(["x", "第二章 申请与审批 >  第十四条"], gold)
    assert not metrics.section_match(["第二章 申请与审批 > 第十五条"], gold)
    assert not metrics.section_match([""], "")


def test_score_answer_reads_citations_quotes_and_answer() -> None:
    item = {
        "type": "law",
        "evidence": ["排污许可证有效期为5年。"],
        "section": "第二章 申请与审批 > 第十四条",
        "answer_facts": ["5年", "60日前"],
    }
    payload = {
        "answer": "排污许可证有效期为5年[1]。",
        "abstained": False,
        "citations": [
            {"text": "无关条文", "quote": "无关", "section": "第一章 总则 > 第一条"},
            {
                "text": "第十四条 排污许可证有效期为5年。",
                "quote": "排污许可证有效期为5年。",
                "section": "第二章 申请与审批 > 第十四条",
            },
        ],
    }
    row = metrics.score_answer(item, payload)
    assert row["rank"] == 2 and row["quote_hit"] is True and row["section_hit"] is True
    assert row["keyfact"] == 0.0 and row["fact_recall"] == pytest.approx(0.5)
    assert row["abstained"] is False
    empty = metrics.score_answer(item, {"answer": "", "abstained": True, "citations": []})
    assert empty["rank"] is None and empty["quote_hit"] is False and empty["section_hit"] is False


def test_score_passages_takes_key_facts_from_top_passage_only() -> None:
    item = {"evidence": ["有效期为5年"], "answer_facts": ["5年"]}
    assert metrics.score_passages(item, [{"text": "其他"}, {"text": "有效期为5年"}])["keyfact"] == 0.0
    assert metrics.score_passages(item, [{"text": "有效期为5年"}])["keyfact"] == 1.0


def test_percentile_interpolates() -> None:
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([10.0], 95) == 10.0
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert metrics.percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


def _report(**overall: dict[str, float | None]) -> dict:
    return {"aggregates": {mode: {"overall": values} for mode, values in overall.items()}}


FLOORS = [
    {"mode": "hybrid", "metric": "hit@1", "min_mode": "lc-chatchat"},
    {"mode": "answer", "metric": "keyfact_acc", "min": 0.8},
]


def test_floors_pass_when_met_and_ties_pass() -> None:
    report = _report(hybrid={"hit@1": 0.6}, answer={"keyfact_acc": 0.8}, **{"lc-chatchat": {"hit@1": 0.6}})
    assert check_floors(report, FLOORS) == []


def test_floors_report_each_violation() -> None:
    report = _report(hybrid={"hit@1": 0.5}, answer={"keyfact_acc": 0.79}, **{"lc-chatchat": {"hit@1": 0.6}})
    violations = check_floors(report, FLOORS)
    assert len(violations) == 2
    assert "lc-chatchat" in violations[0] and "0.79" in violations[1]


def test_unmeasured_floor_is_a_violation() -> None:
    violations = check_floors(_report(hybrid={"hit@1": 0.9}, answer={"keyfact_acc": None}), FLOORS)
    assert len(violations) == 2
    assert all("not measured" in v for v in violations)


def test_shipped_floors_file_states_the_required_floors() -> None:
    floors = {(f["mode"], f["metric"], f.get("tag"), "min_mode" in f): f for f in load_floors()}
    assert all(f.get("split") == "test" for f in load_floors())  # floors speak of the held-out split
    for mode in ("hybrid", "answer"):
        for metric in ("hit@1", "hit@5"):
            assert floors[(mode, metric, None, True)]["min_mode"] == "lc-chatchat"
    assert floors[("answer", "hit@1", None, False)]["min"] == pytest.approx(0.74)
    assert floors[("answer", "hit@5", None, False)]["min"] == pytest.approx(0.89)
    assert floors[("answer", "keyfact_acc", None, False)]["min"] == pytest.approx(0.75)
    assert floors[("answer", "hit@5", "colloquial", False)]["min"] == pytest.approx(0.86)
    assert floors[("answer", "abstain_recall", None, False)]["min"] == pytest.approx(0.62)
    assert floors[("answer", "false_abstain", None, False)]["max"] == pytest.approx(0.05)


def _write_gold(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_load_gold_reads_items_and_rejects_bad_ones(tmp_path: Path) -> None:
    good = {"id": "a", "type": "law", "question": "问", "evidence": ["证"], "answer_facts": ["实"]}
    items = load_gold(_write_gold(tmp_path / "g.jsonl", [good]))
    assert items == [GoldItem(id="a", type="law", question="问", evidence=("证",), answer_facts=("实",))]
    with pytest.raises(GoldError, match="duplicate"):
        load_gold(_write_gold(tmp_path / "d.jsonl", [good, good]))
    with pytest.raises(GoldError, match="type"):
        load_gold(_write_gold(tmp_path / "t.jsonl", [{**good, "type": "trivia"}]))
    with pytest.raises(GoldError, match="question"):
        load_gold(_write_gold(tmp_path / "q.jsonl", [{**good, "question": ""}]))


def test_limit_takes_round_robin_across_types() -> None:
    items = [GoldItem(f"{t}{i}", t, "q") for t in ("law", "county", "unanswerable") for i in range(3)]
    picked = take(items, 4)
    assert [i.id for i in picked] == ["law0", "county0", "unanswerable0", "law1"]
    assert take(items, None) == items


def test_parse_modes_rejects_unknown() -> None:
    assert parse_modes("hybrid, answer,hybrid") == ["hybrid", "answer"]
    with pytest.raises(ValueError, match="known"):
        parse_modes("hybrid,magic")
