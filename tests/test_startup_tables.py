"""Tables the service derives at start-up: word IDF, token ids for BM25, passages per county.

Each is computed the cheap way now (from the word index, in one pass); these tests hold the
cheap way to what the direct definition gives.
"""

from __future__ import annotations

from collections import Counter

import bm25s
import numpy as np
import pytest

from indexer.chargram import char_tokens
from indexer.corpus import Corpus, index_text
from indexer.records import Passage
from indexer.sparse import SparseIndex, token_ids
from indexer.tokenize import tokens
from service.pipeline import compute_idf, idf_table
from service.targets import _plan, county_passages, passages_by_county, zone_spans
from service.vocab import find_counties, find_zones, load_vocab, may_name_place

TEXTS = ["大气污染防治", "水污染防治 PM2.5 浓度", "", "噪声扰民 噪声", "大气 大气 大气"]


def test_token_ids_number_each_distinct_token_once_and_mark_empty_texts() -> None:
    ids, vocab = token_ids(["大气 水", "", "水 水"], lambda t: t.split())
    assert vocab == {"大气": 0, "水": 1, "∅": 2}
    assert [list(i) for i in ids] == [[0, 1], [2], [1, 1]]
    assert all(i.itemsize == 4 for i in ids)  # packed, not a list of ints


@pytest.mark.parametrize("tokenize", [char_tokens, tokens])
def test_streamed_token_ids_score_like_bm25s_given_every_token_list(tokenize) -> None:  # type: ignore[no-untyped-def]
    streamed = SparseIndex.build(iter(TEXTS), tokenize)
    model = bm25s.BM25(k1=1.2, b=0.75)
    model.index([tokenize(t) or ["∅"] for t in TEXTS], show_progress=False)
    direct = SparseIndex(model, tokenize)
    for query in ["污染", "pm2.5 噪声", "大气", "没有的词"]:
        np.testing.assert_allclose(streamed.scores(query), direct.scores(query), rtol=1e-6)


def test_document_frequencies_count_the_passages_holding_each_token() -> None:
    index = SparseIndex.build(TEXTS, char_tokens)
    expected: Counter[str] = Counter()
    for t in TEXTS:
        expected.update(set(char_tokens(t)))
    assert index.document_frequencies() == dict(expected)
    assert index.document_frequencies()["大气"] == 2  # repeated in one passage, counted once


def test_idf_from_the_word_index_equals_counting_the_corpus(corpus: Corpus) -> None:
    passages = corpus.passages
    index = SparseIndex.build(index_text(p) for p in passages)
    from_index = idf_table(index.document_frequencies(), len(passages))
    counted = compute_idf(passages)
    assert from_index.keys() == counted.keys()
    assert all(abs(from_index[k] - counted[k]) < 1e-9 for k in counted)


def test_idf_table_weighs_unseen_words_like_the_commonest() -> None:
    idf = idf_table({"总则": 4, "湿地": 2, "噪声": 1}, 4)
    assert idf["__unseen__"] == idf["总则"] < idf["湿地"] < idf["噪声"]


def test_a_text_without_any_place_name_cannot_name_a_county() -> None:
    vocab = load_vocab()
    assert not may_name_place("加强医疗废物集中处置", vocab)
    county = vocab.counties[0]
    assert may_name_place(f"推进{county.names[-1]}污水处理厂提标改造", vocab)


def _direct_county_passages(corpus: Corpus, county_name: str) -> list[Passage]:
    """The definition: the passage names the county or its zone, or lies where the plan
    describes the zone."""
    vocab = load_vocab()
    county = next(c for c in vocab.counties if c.name == county_name)
    zone = vocab.zone_of(county)
    plan = _plan(corpus)
    spans = [(s, e) for s, e, z in zone_spans(plan, vocab) if z.name == zone.name]
    return [
        p
        for d in corpus.documents
        for p in d.passages
        if (d is plan and any(p.start < e and s < p.end for s, e in spans))
        or county in find_counties(p.text, vocab, loose=False)
        or zone in find_zones(p.text, vocab)
    ]


def test_one_pass_finds_each_countys_passages_as_the_definition_does(corpus: Corpus) -> None:
    vocab = load_vocab()
    together = passages_by_county(corpus, vocab.counties, vocab)
    assert set(together) == {c.name for c in vocab.counties}
    for county in vocab.counties:
        assert together[county.name] == _direct_county_passages(corpus, county.name)
        assert together[county.name], county.name  # the plan names every county somewhere
    first = vocab.counties[0]
    assert county_passages(corpus, first.name) == together[first.name]
