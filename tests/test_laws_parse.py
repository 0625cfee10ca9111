"""Laws: 章 / 节 / 条 structure, article passages and their ids."""

from __future__ import annotations

from indexer.corpus import Corpus
from indexer.laws import chinese_number


def _doc(corpus: Corpus, doc_id: str):  # type: ignore[no-untyped-def]
    return next(d for d in corpus.documents if d.meta.id == doc_id)


def test_chinese_numbers() -> None:
    assert [
        chinese_number(x)
        for x in ["第一条", "第十条", "第十九条", "第四十三条", "第一百二十九条", "第一百条"]
    ] == [
        1,
        10,
        19,
        43,
        129,
        100,
    ]


def test_article_with_chapter_and_section(corpus: Corpus) -> None:
    air = _doc(corpus, "air-pollution-prevention-law")
    art = next(p for p in air.passages if p.id == "air-pollution-prevention-law:a43")
    assert art.section == ("第四章 大气污染防治措施", "第二节 工业污染防治", "第四十三条")
    assert art.text.startswith("第四十三条")
    assert air.text[art.start : art.end] == art.text


def test_every_law_parses_into_articles(corpus: Corpus) -> None:
    laws = [d for d in corpus.documents if d.meta.kind != "plan"]
    assert len(laws) == 26
    for d in laws:
        articles = {p.section[-1] for p in d.passages if p.kind == "article"}
        assert len(articles) >= 20, d.meta.id
        ids = [p.id for p in d.passages]
        assert len(ids) == len(set(ids))
        for p in d.passages:
            assert d.text[p.start : p.end] == p.text
            assert len(p.text) <= 400


def test_long_article_split_keeps_its_path(corpus: Corpus) -> None:
    parts = [p for d in corpus.documents for p in d.passages if p.id.endswith("-2")]
    assert parts, "long articles are split into parts"
    for p in parts:
        first = next(q for d in corpus.documents for q in d.passages if q.id == p.id[:-2] + "-1")
        assert first.section == p.section
