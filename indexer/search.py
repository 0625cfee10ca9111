"""Ranked passage search: BM25, dense, or every channel fused by weighted reciprocal rank."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from .abbrev import expansions
from .decompose import decompose
from .errors import InvalidRequest
from .fusion import Fusion, fuse, load_fusion, rrf
from .records import Hit, Passage
from .store import LoadedIndex

if TYPE_CHECKING:
    from .embed import Embedder

__all__ = ["MODES", "Ranking", "Searcher", "rrf"]

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[str, ...] = ("hybrid", "bm25", "dense")
# Query vectors of the last few texts: one ask ranks the same question several times (whole
# corpus, then the laws of a sector), and the model call is the costly part of a search. Kept
# this small on purpose: it serves one ask, not repeated questions (nor latency benchmarks).
_QUERY_CACHE = 8
_VECTOR_CHANNELS = frozenset({"dense", "sentence", "dense_ask", "sentence_ask"})


@dataclass(frozen=True)
class Ranking:
    """Passage positions in score order, with the scores."""

    order: np.ndarray
    scores: np.ndarray


def _ordered(scores: np.ndarray, mask: np.ndarray | None, depth: int, floor: float) -> Ranking:
    """Positions by descending score, keeping scores above ``floor`` inside ``mask``."""
    if mask is not None:
        scores = np.where(mask, scores, floor)
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] > floor][:depth]
    return Ranking(order, scores[order])


def _tier_factors(index: LoadedIndex, doc_of: np.ndarray, fusion: Fusion) -> np.ndarray | None:
    """Each passage's fused-score factor from its document's tier; None when all are 1."""
    by_doc = {d.meta.id: fusion.tier_factor(d.meta.tier) for d in index.corpus.documents}
    if all(f == 1.0 for f in by_doc.values()):
        return None
    return np.array([by_doc[d] for d in doc_of.tolist()], dtype=np.float64)


class Searcher:
    def __init__(self, index: LoadedIndex, embedder: Embedder, fusion: Fusion | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.fusion = fusion or load_fusion()
        self.passages: list[Passage] = index.corpus.passages
        self.doc_titles = {d.meta.id: d.meta.title for d in index.corpus.documents}
        self._doc_of = np.array([p.doc_id for p in self.passages])
        self._tier_factor = _tier_factors(index, self._doc_of, self.fusion)
        self._qvecs: OrderedDict[str, np.ndarray] = OrderedDict()
        self._qlock = threading.Lock()

    def use_fusion(self, fusion: Fusion) -> None:
        """Rank with another fusion from now on (for ablations and tuning scripts)."""
        self.fusion = fusion
        self._tier_factor = _tier_factors(self.index, self._doc_of, fusion)

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

    def query_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Query embeddings; the ones not seen recently are computed in one model call.

        The model serialises its calls anyway, so holding the lock across the call costs nothing."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        with self._qlock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._qvecs))
            if missing:
                for t, v in zip(missing, self.embedder.embed(missing, kind="query"), strict=True):
                    self._qvecs[t] = v
            for t in texts:
                self._qvecs.move_to_end(t)
            out = np.stack([self._qvecs[t] for t in texts])
            while len(self._qvecs) > _QUERY_CACHE:
                self._qvecs.popitem(last=False)
        return out

    def bm25_ranking(self, query: str, mask: np.ndarray | None, depth: int) -> Ranking:
        return _ordered(self.index.sparse.scores(query), mask, depth, 0.0)

    def char_ranking(self, query: str, mask: np.ndarray | None, depth: int) -> Ranking:
        if self.index.channels is None:
            return Ranking(np.zeros(0, np.int64), np.zeros(0, np.float32))
        return _ordered(self.index.channels.char.scores(query), mask, depth, 0.0)

    def _dense_vec_ranking(self, qvec: np.ndarray, mask: np.ndarray | None, depth: int) -> Ranking:
        if mask is None:
            scores, ids = self.index.dense.search(qvec, depth)
        else:
            scores, ids = self.index.dense.search_within(qvec, depth, np.flatnonzero(mask))
        return Ranking(ids, scores)

    def _sentence_vec_ranking(self, qvec: np.ndarray, mask: np.ndarray | None, depth: int) -> Ranking:
        if self.index.channels is None:
            return Ranking(np.zeros(0, np.int64), np.zeros(0, np.float32))
        return _ordered(self.index.channels.sentences.passage_scores(qvec), mask, depth, -1.0)

    def dense_ranking(self, query: str, mask: np.ndarray | None, depth: int) -> Ranking:
        return self._dense_vec_ranking(self.query_vectors([query])[0], mask, depth)

    def channel_rankings(
        self,
        query: str,
        mask: np.ndarray | None,
        depth: int,
        expansion: str = "",
        channels: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Ranked positions per hybrid channel (all of ``channels``, by default the weighted ones).

        The question and its asking clause are embedded in one model call."""
        wanted = set(self.fusion.active if channels is None else channels)
        ask = decompose(query).ask
        texts = [query, ask] if ask and wanted & {"dense_ask", "sentence_ask"} else [query]
        vecs = self.query_vectors(texts) if wanted & _VECTOR_CHANNELS else None
        out: dict[str, np.ndarray] = {}
        if "bm25" in wanted:
            out["bm25"] = self.bm25_ranking(query, mask, depth).order
        if "expanded" in wanted and expansion:
            out["expanded"] = self.bm25_ranking(f"{query} {expansion}", mask, depth).order
        if "abbrev" in wanted and self.index.channels is not None:
            extra = expansions(query, self.index.channels.abbreviations)
            if extra:
                out["abbrev"] = self.bm25_ranking(f"{query} {' '.join(extra)}", mask, depth).order
        if "char" in wanted:
            out["char"] = self.char_ranking(query, mask, depth).order
        if vecs is not None:
            if "dense" in wanted:
                out["dense"] = self._dense_vec_ranking(vecs[0], mask, depth).order
            if "sentence" in wanted:
                out["sentence"] = self._sentence_vec_ranking(vecs[0], mask, depth).order
            if len(vecs) > 1 and "dense_ask" in wanted:
                out["dense_ask"] = self._dense_vec_ranking(vecs[1], mask, depth).order
            if len(vecs) > 1 and "sentence_ask" in wanted:
                out["sentence_ask"] = self._sentence_vec_ranking(vecs[1], mask, depth).order
        return out

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
        fused = fuse(self.channel_rankings(query, mask, depth, expansion), len(self.passages), self.fusion)
        if mask is None and self._tier_factor is not None:
            # Documents asked for by id are ranked among themselves, so tiers apply only to the
            # whole knowledge base: a reference library ranks below the core it sits beside.
            fused *= self._tier_factor
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
