"""The loaded service: index, model and answer pipeline, with the JSON shapes of the API."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import Any

from indexer.dense import single_threaded_blas
from indexer.errors import NotFound, PlanqaError
from indexer.fusion import Fusion, load_fusion
from indexer.records import Hit, Passage
from indexer.settings import Settings, get_settings

from .answer import Citation
from .pipeline import QA, idf_table
from .schemas import AskResponse


def citation_dict(n: int, hit: Hit, quote: str = "") -> dict[str, Any]:
    p = hit.passage
    return {
        "n": n,
        "passage_id": p.id,
        "doc_id": p.doc_id,
        "doc_title": hit.doc_title,
        "section": p.section_path,
        "text": p.text,
        "quote": quote,
        "score": round(float(hit.score), 6),
    }


def _cites(items: Sequence[Citation]) -> list[dict[str, Any]]:
    return [citation_dict(c.n, c.hit, c.quote) for c in items]


class Engine:
    def __init__(self, settings: Settings, qa: QA, manifest: dict[str, object]) -> None:
        self.settings = settings
        self.qa = qa
        self.searcher = qa.searcher
        self.corpus = qa.corpus
        self.manifest = manifest
        self._order = {p.id: i for i, p in enumerate(self.corpus.passages)}

    def ask_payload(
        self, question: str, top_k: int = 5, doc_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        answer, q = self.qa.ask(question.strip(), top_k=top_k, doc_ids=doc_ids)
        payload = {
            "question": question.strip(),
            "answer": answer.text,
            "abstained": answer.abstained,
            "citations": _cites(answer.citations),
            "related": _cites(answer.related),
            "targets": [asdict(t) for t in answer.targets],
            "took_ms": round((time.perf_counter() - t0) * 1000, 2),
            "county": q.county.name if q.county else None,
            "zone": q.zone,
            "sector": q.sector.name if q.sector else None,
        }
        return AskResponse.model_validate(payload).model_dump()

    def search_payload(
        self, query: str, top_k: int = 10, mode: str = "hybrid", doc_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        t0 = time.perf_counter()
        hits = self.search(query.strip(), k=top_k, doc_ids=doc_ids, mode=mode)
        return {
            "results": [citation_dict(h.rank, h) for h in hits],
            "took_ms": round((time.perf_counter() - t0) * 1000, 2),
        }

    def targets_payload(
        self,
        county: str | None = None,
        zone: str | None = None,
        sector: str | None = None,
        year: str | None = None,
        attribute: str | None = None,
    ) -> dict[str, Any]:
        from .targets import targets_for
        from .vocab import load_vocab, lookup_county

        found = targets_for(
            self.qa.targets,
            self.corpus,
            county=county,
            zone=zone,
            sector=sector,
            year=year,
            attribute=attribute,
        )
        c = lookup_county(county) if county else None
        return {
            "county": c.name if c else None,
            "zone": c.zone if c else zone,
            "sector": sector,
            "targets": [asdict(t) for t in found],
            "known_counties": [x.name for x in load_vocab().counties],
        }

    def vocab_payload(self) -> dict[str, Any]:
        from .vocab import load_vocab

        v = load_vocab()
        return {
            "counties": [c.name for c in v.counties],
            "zones": {z.name: list(z.counties) for z in v.zones},
            "sectors": [s.name for s in v.sectors],
        }

    def search(
        self, query: str, k: int = 10, doc_ids: Sequence[str] | None = None, mode: str = "hybrid"
    ) -> list[Hit]:
        """Ranked passages; hybrid mode also searches with the document words for everyday wording."""
        from .vocab import expand_query, load_vocab

        vocab = load_vocab() if self.qa.everyday else replace(load_vocab(), everyday=())
        expansion = " ".join(expand_query(query, vocab)) if mode == "hybrid" else ""
        ranking = self.searcher.rank(query, mode, doc_ids, depth=max(k, 50), expansion=expansion)
        return self.searcher.hits(ranking, k, mode)

    def documents(self) -> list[dict[str, Any]]:
        out = []
        for d in self.corpus.documents:
            out.append({**asdict(d.meta), "passages": len(d.passages), "characters": len(d.text)})
        return out

    def document(self, doc_id: str) -> dict[str, Any]:
        for d in self.corpus.documents:
            if d.meta.id == doc_id:
                tree = [{"level": h.level, "title": h.title, "start": h.start} for h in d.headings]
                return {**asdict(d.meta), "passages": len(d.passages), "headings": tree}
        raise NotFound(f"unknown document {doc_id!r}", allowed=[d.meta.id for d in self.corpus.documents])

    def _passage_dict(self, p: Passage) -> dict[str, Any]:
        return {
            "passage_id": p.id,
            "doc_id": p.doc_id,
            "section": p.section_path,
            "text": p.text,
            "kind": p.kind,
            "start": p.start,
            "end": p.end,
        }

    def passage(self, passage_id: str, neighbours: int = 2) -> dict[str, Any]:
        p = self.qa.ctx.by_id.get(passage_id)
        if p is None:
            raise NotFound(f"unknown passage {passage_id!r}; passage ids look like 'langfang-eco-plan:0012'")
        passages = self.corpus.passages
        i = self._order[p.id]
        same_doc = [x for x in passages[max(0, i - neighbours) : i + neighbours + 1] if x.doc_id == p.doc_id]
        meta = self.corpus.meta(p.doc_id)
        return {
            "passage": self._passage_dict(p),
            "doc_title": meta.title,
            "version_date": meta.version_date,
            "neighbours": {
                "before": [self._passage_dict(x) for x in same_doc if self._order[x.id] < i],
                "after": [self._passage_dict(x) for x in same_doc if self._order[x.id] > i],
            },
            "section_passages": [
                self._passage_dict(x) for x in passages if x.doc_id == p.doc_id and x.section == p.section
            ],
        }


def configured_fusion(settings: Settings) -> Fusion:
    """The shipped fusion, less the channels PLANQA_FUSION_OFF names (for ablations)."""
    try:
        return load_fusion().with_weights(**dict.fromkeys(settings.fusion_off_list, 0.0))
    except ValueError as exc:
        raise PlanqaError(f"PLANQA_FUSION_OFF: {exc}") from exc


def load_engine(
    settings: Settings | None = None, build_if_missing: bool = True, generation: str | None = None
) -> Engine:
    """Loads index and model: the live generation, or the one named; builds it when asked to."""
    from indexer.corpus import load_corpus
    from indexer.docstore import corpus_source
    from indexer.embed import load_embedder
    from indexer.search import Searcher
    from indexer.store import build_index, load_index

    from .targets import extract_targets

    settings = settings or get_settings()
    corpus = load_corpus(corpus_source(settings))
    embedder = load_embedder(settings)
    try:
        index = load_index(settings, embedder.model_id, corpus, generation)
    except PlanqaError:
        if not build_if_missing or generation:
            raise
        build_index(settings, embedder, corpus)
        index = load_index(settings, embedder.model_id, corpus)
    single_threaded_blas()
    searcher = Searcher(index, embedder, configured_fusion(settings))
    idf = idf_table(index.sparse.document_frequencies(), index.dense.size)
    qa = QA(corpus, searcher, extract_targets(corpus), everyday=settings.everyday_terms, idf=idf)
    # First-time costs are paid here, not by the first user: the runtime's first run allocates,
    # jieba loads its dictionary on the first segmentation (0.6 s), and each county's and
    # trade's passage scan is done once. One whole question runs every stage once.
    qa.ask("预热")
    qa.warm()
    return Engine(settings, qa, index.manifest)
