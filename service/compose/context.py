"""What every composer reads: the corpus, its statistics and the structured targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from indexer.corpus import Corpus
from indexer.records import Hit, Passage
from indexer.search import Searcher

from ..answer import Scored
from ..targets import Target, county_passages, passages_by_county
from ..vocab import County, Sector

PLAN_ID = "langfang-eco-plan"
ZONES = ("北部协同发展区", "中部发展引领区", "南部优化发展区")


@dataclass
class Context:
    corpus: Corpus
    searcher: Searcher
    targets: tuple[Target, ...]
    idf: Mapping[str, float]
    titles: dict[str, str] = field(init=False)
    passages: list[Passage] = field(init=False)
    by_id: dict[str, Passage] = field(init=False)
    pos: dict[str, int] = field(init=False)
    # Passages that name a county or a trade, found once per name (scanning the plan is slow).
    county_cache: dict[str, list[Passage]] = field(default_factory=dict)
    sector_cache: dict[str, list[Passage]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.titles = {d.meta.id: d.meta.title for d in self.corpus.documents}
        self.passages = self.corpus.passages
        self.by_id = {p.id: p for p in self.passages}
        self.pos = {p.id: i for i, p in enumerate(self.passages)}

    def hit(self, passage: Passage, score: float = 0.0, rank: int = 99) -> Hit:
        return Hit(passage, score, rank, self.titles[passage.doc_id])

    def county_passages(self, county: County) -> list[Passage]:
        if county.name not in self.county_cache:
            self.county_cache[county.name] = county_passages(self.corpus, county)
        return self.county_cache[county.name]

    def sector_passages(self, sector: Sector) -> list[Passage]:
        if sector.name not in self.sector_cache:
            names = [n for n in sector.names if len(n) >= 2]
            self.sector_cache[sector.name] = [
                p
                for p in self.passages
                if p.doc_id == PLAN_ID and p.kind != "table_row" and any(n in p.text for n in names)
            ]
        return self.sector_cache[sector.name]

    def warm(self, counties: Sequence[County], sectors: Sequence[Sector]) -> None:
        """Every county's and trade's passages found at start-up, so the first question about one
        costs what later ones do (one scan of the plan takes ~100 ms)."""
        missing = [c for c in counties if c.name not in self.county_cache]
        self.county_cache.update(passages_by_county(self.corpus, missing))
        for sector in sectors:
            self.sector_passages(sector)


def distinct(items: Sequence[Scored]) -> list[Scored]:
    """Sentences none of which repeats another."""
    out: list[Scored] = []
    for s in items:
        if not any(s.text in o.text or o.text in s.text for o in out):
            out.append(s)
    return out
