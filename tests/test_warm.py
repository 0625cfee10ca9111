"""Start-up warming: the per-county and per-trade passage lists are built before the first question."""

from __future__ import annotations

from indexer.corpus import Corpus
from service.pipeline import QA
from service.targets import county_passages
from service.vocab import load_vocab


def test_warm_fills_every_county_and_sector_with_what_lazy_filling_gives(corpus: Corpus) -> None:
    vocab = load_vocab()
    qa = QA(corpus, searcher=None, targets=())  # type: ignore[arg-type]  # warming does not search
    qa.warm()
    assert set(qa.ctx.county_cache) == {c.name for c in vocab.counties}
    assert set(qa.ctx.sector_cache) == {s.name for s in vocab.sectors}
    assert all(qa.ctx.county_cache.values())  # every county is named somewhere in the plan
    for county in vocab.counties[:3]:  # each scan is slow; a few show the lists are the same
        assert qa.ctx.county_cache[county.name] == county_passages(corpus, county)
