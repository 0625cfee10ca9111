"""The gold set must be provable from the corpus, and the validator must catch broken gold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.validate import check_counts, squash, validate_gold

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "corpus"
GOLD_DIR = REPO_ROOT / "eval" / "gold"


def law_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": "t-law-01",
        "type": "law",
        "question": "医疗废物在诊所里最多能暂存几天？",
        "evidence": ["医疗废物暂时贮存的时间不得超过2天"],
        "doc_id": "medical-waste-regulations",
        "section": "第三章 医疗卫生机构对医疗废物的管理 > 第十七条",
        "answer_facts": ["2天"],
        "reference_answer": "不得超过2天。",
    }
    item.update(changes)
    return item


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return path


def test_whole_gold_directory_is_valid() -> None:
    problems = validate_gold(GOLD_DIR, CORPUS)
    assert problems == [], "\n".join(problems)


def test_a_correct_item_passes(tmp_path: Path) -> None:
    assert validate_gold(write_jsonl(tmp_path / "g.jsonl", [law_item()]), CORPUS) == []


def test_non_verbatim_evidence_is_caught(tmp_path: Path) -> None:
    paraphrased = law_item(evidence=["医疗废物暂存时间不能超过两天"])
    problems = validate_gold(write_jsonl(tmp_path / "g.jsonl", [paraphrased]), CORPUS)
    assert len(problems) == 1
    assert "evidence" in problems[0] and "t-law-01" in problems[0]


def test_answer_fact_from_another_document_is_caught(tmp_path: Path) -> None:
    # The sentence is verbatim, but in the discharge-permit regulation, not the named document.
    wrong_doc = law_item(answer_facts=["排污许可证有效期为5年"])
    problems = validate_gold(write_jsonl(tmp_path / "g.jsonl", [wrong_doc]), CORPUS)
    assert any("answer_facts" in p for p in problems)


def test_plan_artefacts_are_tolerated(tmp_path: Path) -> None:
    # The raw plan reads "完成 775 个重点行业企业" and breaks "土壤污\n\n染状况调查" across a blank line.
    item = law_item(
        type="achievement",
        doc_id="langfang-eco-plan",
        section="一、接续奋进，开启廊坊市生态环境保护新征程 > （一）取得历史性成就",
        evidence=["推进重点行业企业用地土壤污染状况调查，完成775个重点行业企业"],
        answer_facts=["775个"],
    )
    assert validate_gold(write_jsonl(tmp_path / "g.jsonl", [item]), CORPUS) == []


def test_duplicate_id_across_files_is_caught(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [law_item()])
    write_jsonl(tmp_path / "b.jsonl", [law_item(question="另一个问题")])
    problems = validate_gold(tmp_path, CORPUS, require_counts=False)
    assert len(problems) == 1
    assert "duplicate id 't-law-01'" in problems[0]


def test_bad_type_is_caught(tmp_path: Path) -> None:
    problems = validate_gold(write_jsonl(tmp_path / "g.jsonl", [law_item(type="regulation")]), CORPUS)
    assert len(problems) == 1
    assert "type 'regulation'" in problems[0]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"doc_id": "no-such-law"}, "not in the manifest"),
        ({"evidence": []}, "at least one evidence"),
        ({"answer_facts": [""]}, "non-blank"),
        ({"evidence": "医疗废物暂时贮存的时间不得超过2天"}, "must be list"),
        ({"extra": 1}, "unexpected keys"),
        ({"type": "unanswerable"}, "must have empty"),
    ],
)
def test_malformed_items_are_caught(tmp_path: Path, changes: dict[str, Any], expected: str) -> None:
    problems = validate_gold(write_jsonl(tmp_path / "g.jsonl", [law_item(**changes)]), CORPUS)
    assert any(expected in p for p in problems), problems


def test_missing_key_and_bad_json_are_caught(tmp_path: Path) -> None:
    item = law_item()
    del item["section"]
    path = write_jsonl(tmp_path / "g.jsonl", [item])
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    problems = validate_gold(path, CORPUS)
    assert any("missing keys ['section']" in p for p in problems)
    assert any("g.jsonl:2: not valid JSON" in p for p in problems)


def test_counts_are_enforced_for_a_directory(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "g.jsonl", [law_item()])
    problems = validate_gold(tmp_path, CORPUS)
    assert any("'law' has 1 items; at least 15" in p for p in problems)
    assert any("at least 120 required" in p for p in problems)
    assert check_counts([law_item()] * 200) != []  # other types still missing


def test_squash_removes_artefact_whitespace() -> None:
    assert squash("完成 775 个\n\n重点　行业") == "完成775个重点行业"
    assert squash("国Ⅳ") == "国IV"
