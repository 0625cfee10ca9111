"""Ranked passage search: BM25, dense, or both fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from .errors import InvalidRequest
from .records import Hit, Passage
from .store import LoadedIndex

if TYPE_CHECKING:
    from .embed import Embedder

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")
RRF_K = 20
# Fusion weights: the question's own keywords and its embedding count alike; the ranking with
# everyday-wording expansions counts less, being a guess at what was meant.
W_BM25 = 1.0
W_DENSE = 1.0
W_EXPANDED = 0.6


@dataclass(frozen=True)
class Ranking:
    """Passage positions in score order, with the scores."""

    order: np.ndarray
    scores: np.ndarray


def rrf(rankings: Sequence[np.ndarray], n: int, weights: Sequence[float] | None = None) -> np.ndarray:
    """Reciprocal-rank fusion of ranked position lists into one score per passage."""
    fused = np.zeros(n, dtype=np.float64)
    for r, ranking in enumerate(rankings):
        w = weights[r] if weights else 1.0
        fused[ranking] += w / (RRF_K + np.arange(1, len(ranking) + 1))
    return fused


class Searcher:
    def __init__(self, index: LoadedIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self.passages: list[Passage] = index.corpus.passages
        self.doc_titles = {d.meta.id: d.meta.title for d in index.corpus.documents}
        self._doc_of = np.array([p.doc_id for p in self.passages])

    def check_doc_ids(self, doc_ids: Sequence[str] | None) -> None:
        if not doc_ids:
            return
        unknown = [d for d in doc_ids if d not in self.doc_titles]
        if unknown:
            raise InvalidRequest(f"unknown doc_ids: {', '.join(unknown)}", allowed=sorted(self.doc_titles))

    def _mask(self, doc_ids: Sequence[str] | None) -> np.ndarray | None:
        if not doc_ids:
            return None
        self.check_doc_ids(doc_ids)
        return np.isin(self._doc_of, list(doc_ids))

    def bm25_ranking(self, query: str, mask: np.ndarray | None, depth: int) -> Ranking:
        scores = self.index.sparse.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        order = np.argsort(-scores, kind="stable")
        order = order[scores[order] > 0][:depth]
        return Ranking(order, scores[order])

    def dense_ranking(self, query: str, mask: np.ndarray | None, depth: int) -> Ranking:
        qvec = self.embedder.embed([query], kind="query")[0]
        # Filtering happens after the search, so ask FAISS for enough to survive it.
        want = depth if mask is None else self.index.dense.size
        scores, ids = self.index.dense.search(qvec, want)
        if mask is not None:
            keep = mask[ids]
            scores, ids = scores[keep], ids[keep]
        return Ranking(ids[:depth], scores[:depth])

    def rank(
        self,
        query: str,
        mode: str = "hybrid",
        doc_ids: Sequence[str] | None = None,
        depth: int = 100,
        expansion: str = "",
    ) -> Ranking:
        """Ranked passages. ``expansion`` (document words for everyday wording) joins the
        keyword side as a ranking of its own, so it can add recall without drowning the
        question's own words."""
        if mode not in MODES:
            raise InvalidRequest(f"unknown mode {mode!r}", allowed=list(MODES))
        mask = self._mask(doc_ids)
        if mode == "bm25":
            return self.bm25_ranking(query, mask, depth)
        if mode == "dense":
            return self.dense_ranking(query, mask, depth)
        rankings = [self.bm25_ranking(query, mask, depth).order, self.dense_ranking(query, mask, depth).order]
        weights = [W_BM25, W_DENSE]
        if expansion:
            rankings.append(self.bm25_ranking(f"{query} {expansion}", mask, depth).order)
            weights.append(W_EXPANDED)
        fused = rrf(rankings, len(self.passages), weights)
        order = np.argsort(-fused, kind="stable")
        order = order[fused[order] > 0][:depth]
        return Ranking(order, fused[order].astype(np.float32))

    def search(
        self, query: str, k: int = 5, doc_ids: Sequence[str] | None = None, mode: str = "hybrid"
    ) -> list[Hit]:
        ranking = self.rank(query, mode, doc_ids, depth=max(k, 50))
        return self.hits(ranking, k, mode)

    def hits(self, ranking: Ranking, k: int, source: str = "") -> list[Hit]:
        out = []
        for rank, (pos, score) in enumerate(zip(ranking.order[:k], ranking.scores[:k], strict=True), 1):
            p = self.passages[int(pos)]
            out.append(Hit(p, float(score), rank, self.doc_titles[p.doc_id], (source,) if source else ()))
        return out
