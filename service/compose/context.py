"""What every composer reads: the corpus, its statistics and the structured targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from indexer.corpus import Corpus
from indexer.records import Hit, Passage
from indexer.search import Searcher

from ..answer import Scored
from ..targets import Target

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


def distinct(items: Sequence[Scored]) -> list[Scored]:
    """Sentences none of which repeats another."""
    out: list[Scored] = []
    for s in items:
        if not any(s.text in o.text or o.text in s.text for o in out):
            out.append(s)
    return out
