"""Start-up warming: the per-county and per-trade passage lists are built before the first question."""

from __future__ import annotations

import pytest

from indexer.corpus import Corpus
from indexer.settings import Settings
from service.pipeline import QA
from service.targets import county_passages
from service.vocab import load_vocab


def test_warm_fills_every_county_and_sector_with_what_lazy_filling_gives(corpus: Corpus) -> None:
    vocab = load_vocab()
    qa = QA(corpus, searcher=None, targets=())  # type: ignore[arg-type]  # warming does not search
    qa.warm()
    counties, sectors = qa.ctx.county_cache, qa.ctx.sector_cache
    assert set(counties) == {c.name for c in vocab.counties}
    assert set(sectors) == {s.name for s in vocab.sectors}
    assert all(counties.values())  # every county is named somewhere in the plan
    for county in vocab.counties[:3]:  # each scan is slow; a few show the lists are the same
        assert counties[county.name] == county_passages(corpus, county)
    lazy = QA(corpus, searcher=None, targets=())  # type: ignore[arg-type]
    for sector in vocab.sectors:
        assert sectors[sector.name] == lazy.ctx.sector_passages(sector)


@pytest.mark.slow
def test_start_up_runs_one_question_through_every_stage(index_settings: Settings) -> None:
    """jieba's dictionary load (0.6 s) and the runtime's first run happen before the first user."""
    from indexer import tokenize
    from service.engine import load_engine

    tokenize._tokenizer.cache_clear()
    engine = load_engine(index_settings, build_if_missing=False)
    assert tokenize._tokenizer.cache_info().currsize == 1
    assert tokenize._tokenizer().initialized
    assert "预热" in engine.qa.searcher._qvecs  # the question went through retrieval


@pytest.mark.slow
def test_start_up_puts_numpy_blas_on_one_thread(index_settings: Settings) -> None:
    """Idle OpenBLAS threads spin on the cores concurrent requests need (see single_threaded_blas)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from service.engine import load_engine

    with threadpool_limits(limits=2, user_api="blas"):  # as a fresh 2-core process starts
        load_engine(index_settings, build_if_missing=False)
        blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)


def test_warm_builds_the_text_quoted_names_are_matched_against(corpus: Corpus) -> None:
    qa = QA(corpus, searcher=None, targets=())  # type: ignore[arg-type]
    assert "flat_text" not in qa.__dict__
    qa.warm()
    assert "国家森林城市" in qa.__dict__["flat_text"]
