"""The dev/test split, tags, split-aware aggregates and floors scoped to a split or tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import metrics
from eval.report import check_floors, render_markdown
from eval.runner import GoldError, GoldItem, assemble, load_gold, select_split
from eval.split import split_of


def test_split_is_a_fixed_function_of_the_id() -> None:
    ids = [f"q-{i:03d}" for i in range(400)]
    splits = [split_of(i) for i in ids]
    assert splits == [split_of(i) for i in ids]  # stable
    share = splits.count("test") / len(splits)
    assert 0.4 < share < 0.6  # roughly half held out
    # Pinned values: changing the rule would silently move questions between dev and test.
    pinned = {"ind-01": "test", "law-01": "test", "law-02": "dev", "law-03": "dev", "law-04": "test"}
    assert {i: split_of(i) for i in pinned} == pinned


def test_select_split_filters_and_rejects_unknown_names() -> None:
    items = [GoldItem(id=f"x{i}", type="law", question="q") for i in range(20)]
    dev, test = select_split(items, "dev"), select_split(items, "test")
    assert len(dev) + len(test) == 20 and not {i.id for i in dev} & {i.id for i in test}
    assert select_split(items, "all") == items
    with pytest.raises(ValueError, match="unknown split"):
        select_split(items, "train")


def _gold(tmp_path: Path, **extra: object) -> Path:
    row = {"id": "a", "type": "law", "question": "问？", "evidence": ["x"], **extra}
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def test_tags_are_read_and_unknown_tags_rejected(tmp_path: Path) -> None:
    assert load_gold(_gold(tmp_path, tags=["colloquial", "multipart"]))[0].tags == ("colloquial", "multipart")
    with pytest.raises(GoldError, match="unknown tag"):
        load_gold(_gold(tmp_path, tags=["slang"]))


def test_false_abstention_counts_declined_answerable_questions() -> None:
    rows = [
        {"type": "law", "abstained": True},
        {"type": "law", "abstained": False},
        {"type": "law", "abstained": False},
        {"type": "unanswerable", "abstained": True},
    ]
    agg = metrics.aggregate(rows)
    assert agg["false_abstain"] == pytest.approx(1 / 3)
    assert agg["abstain_recall"] == 1.0


def _row(rank: int | None, split: str, tags: list[str]) -> dict:
    return {"type": "law", "scored_retrieval": True, "rank": rank, "split": split, "tags": tags}


def test_assemble_reports_each_split_and_tag() -> None:
    items = [GoldItem(id=f"q{i}", type="law", question="q", evidence=("e",)) for i in range(12)]
    rows = {
        "hybrid": {
            i.id: _row(1 if i.split == "dev" else None, i.split, ["colloquial"] if n % 2 else [])
            for n, i in enumerate(items)
        }
    }
    report = assemble(items, ["hybrid"], rows, target="t")
    splits = report["aggregates"]["hybrid"]["splits"]
    assert splits["dev"]["overall"]["hit@1"] == 1.0
    assert splits["test"]["overall"]["hit@1"] == 0.0
    assert "colloquial" in report["aggregates"]["hybrid"]["by_tag"]
    md = render_markdown(report)
    assert "## Test split" in md and "## Dev − test gap" in md and "+1.000" in md


def _scoped_report(test_value: float, tag_value: float) -> dict:
    view = {"overall": {"hit@5": 0.99}, "by_tag": {}}
    test = {"overall": {"hit@5": test_value}, "by_tag": {"colloquial": {"hit@5": tag_value}}}
    return {"aggregates": {"answer": {**view, "splits": {"dev": view, "test": test}}}}


def test_floors_can_name_a_split_and_a_tag() -> None:
    floors = [
        {"mode": "answer", "metric": "hit@5", "split": "test", "min": 0.9},
        {"mode": "answer", "metric": "hit@5", "split": "test", "tag": "colloquial", "min": 0.75},
    ]
    assert check_floors(_scoped_report(0.95, 0.8), floors) == []
    violations = check_floors(_scoped_report(0.85, 0.7), floors)
    assert len(violations) == 2
    assert "test" in violations[0] and "colloquial" in violations[1]


def test_ceiling_floor_for_false_abstention() -> None:
    floors = [{"mode": "answer", "metric": "false_abstain", "split": "test", "max": 0.05}]
    report = {"aggregates": {"answer": {"splits": {"test": {"overall": {"false_abstain": 0.1}}}}}}
    assert "above the ceiling" in check_floors(report, floors)[0]


def test_fusion_off_switches_named_channels_off_and_rejects_unknown_ones() -> None:
    from indexer.errors import PlanqaError
    from indexer.settings import Settings
    from service.engine import configured_fusion

    base = configured_fusion(Settings())
    off = configured_fusion(Settings(fusion_off="sentence, abbrev"))
    assert "sentence" in base.active and "sentence" not in off.active and "abbrev" not in off.active
    with pytest.raises(PlanqaError, match="unknown fusion channels"):
        configured_fusion(Settings(fusion_off="telepathy"))
