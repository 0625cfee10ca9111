"""Every gold section path exists in the heading tree the parser builds."""

from __future__ import annotations

from eval.validate import check_sections, load_gold
from indexer.corpus import Corpus
from indexer.settings import REPO_ROOT


def known_paths(corpus: Corpus) -> set[str]:
    paths: set[str] = set()
    for p in corpus.passages:
        for i in range(1, len(p.section) + 1):
            paths.add(" > ".join(p.section[:i]))
    return paths


def test_gold_sections_exist(corpus: Corpus) -> None:
    items = [i for i in load_gold(REPO_ROOT / "eval" / "gold") if i["type"] != "unanswerable"]
    assert len(items) >= 110
    assert check_sections(items, known_paths(corpus)) == []


def test_section_check_catches_a_wrong_path(corpus: Corpus) -> None:
    bad = [{"id": "x", "type": "law", "section": "第九十九章 不存在 > 第一条"}]
    assert check_sections(bad, known_paths(corpus))
