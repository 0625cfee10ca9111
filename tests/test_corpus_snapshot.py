"""The shipped corpus parses exactly as it did before the generic structure parser.

``tests/data/corpus_snapshot.json`` was written by the former plan and law parsers
(``scripts/corpus_snapshot.py``); every passage (id, heading path, text, span, kind, topic),
every heading and every indicator must still come out the same.
"""

from __future__ import annotations

import json
import sys

import pytest

from indexer.corpus import Corpus
from indexer.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from corpus_snapshot import SNAPSHOT, snapshot


@pytest.fixture(scope="module")
def before() -> dict:  # type: ignore[type-arg]
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def after(corpus: Corpus) -> dict:  # type: ignore[type-arg]
    return json.loads(json.dumps(snapshot(corpus), ensure_ascii=False))


def test_same_documents(before: dict, after: dict) -> None:  # type: ignore[type-arg]
    assert [d["id"] for d in after["documents"]] == [d["id"] for d in before["documents"]]
    assert len(before["documents"]) == 27


def test_every_passage_unchanged(before: dict, after: dict) -> None:  # type: ignore[type-arg]
    for old, new in zip(before["documents"], after["documents"], strict=True):
        assert len(new["passages"]) == len(old["passages"]), old["id"]
        for p_old, p_new in zip(old["passages"], new["passages"], strict=True):
            assert p_new == p_old, old["id"]


def test_headings_text_and_indicators_unchanged(before: dict, after: dict) -> None:  # type: ignore[type-arg]
    for old, new in zip(before["documents"], after["documents"], strict=True):
        assert new["headings"] == old["headings"], old["id"]
        assert new["text_sha256"] == old["text_sha256"], old["id"]
    assert after["indicators"] == before["indicators"]
