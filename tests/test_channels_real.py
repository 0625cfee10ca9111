"""The hybrid channels over the real index and model (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.fusion import CHANNELS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def searcher(engine):  # type: ignore[no-untyped-def]
    return engine.searcher


def test_the_index_carries_sentence_vectors_and_abbreviations(engine) -> None:  # type: ignore[no-untyped-def]
    m = engine.manifest
    assert int(m["sentences"]) > int(m["passages"])
    channels = engine.searcher.index.channels
    assert channels is not None and channels.sentences.size == int(m["sentences"])
    assert ("vocs", "挥发性有机物") in channels.abbreviations
    assert ("pm2.5", "细颗粒物") in channels.abbreviations


def test_every_channel_ranks_real_passages(searcher) -> None:  # type: ignore[no-untyped-def]
    q = "我家在村里，最近地里有人烧秸秆，冒的烟很大，这种情况谁来管？"
    rankings = searcher.channel_rankings(q, None, 20, expansion="秸秆焚烧", channels=CHANNELS)
    assert {"bm25", "dense", "expanded", "char", "sentence", "dense_ask", "sentence_ask"} <= set(rankings)
    for name, order in rankings.items():
        if name.endswith("_ask"):
            # The asking clause alone ("这种情况谁来管") is about duties, not straw: a different list.
            assert len(order) and not np.array_equal(order[:10], rankings[name.removesuffix("_ask")][:10])
            continue
        top = [searcher.passages[int(i)].text for i in order[:10]]
        assert any("秸秆" in t for t in top), name


def test_sentence_channel_finds_one_sentence_inside_a_long_passage(searcher) -> None:  # type: ignore[no-untyped-def]
    vec = searcher.query_vectors(["每个乡镇要建几个医疗废物周转站"])[0]
    ranking = searcher._sentence_vec_ranking(vec, None, 5)
    assert any("医疗废物周转站" in searcher.passages[int(i)].text for i in ranking.order)


def test_character_channel_matches_latin_runs_whole(searcher) -> None:  # type: ignore[no-untyped-def]
    ranking = searcher.char_ranking("VOCs", None, 5)
    assert all("vocs" in searcher.passages[int(i)].text.lower() for i in ranking.order)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_modes_still_answer_through_the_engine(engine, mode: str) -> None:  # type: ignore[no-untyped-def]
    hits = engine.search("挥发性有机物治理", k=3, mode=mode)
    assert len(hits) == 3 and any("挥发性有机物" in h.passage.text for h in hits)
