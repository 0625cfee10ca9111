"""From a question to an Answer: analyse, retrieve, decide whether the documents answer, compose."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.corpus import Corpus, index_text
from indexer.records import Hit, Passage
from indexer.search import Searcher
from indexer.tokenize import tokens

from .analyze import Query, analyse
from .answer import (
    Answer,
    Citation,
    Scored,
    coverage,
    indicator_sentence,
    pick_sentences,
    quote_for,
    score_sentences,
)
from .targets import Target, county_passages, targets_for

# Below this share of the question's weighted content found in the best passages, the
# documents are taken not to answer it. Set on questions written for tuning, kept apart
# from the evaluation set.
MIN_COVERAGE = 0.5
CANDIDATES = 8
ABSTAIN_TEXT = "规划及所收录的法律法规中没有找到对这一问题的明确答复。下列相关内容仅供参考，不构成答案。"


def compute_idf(passages: Sequence[Passage]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for p in passages:
        df.update(set(tokens(index_text(p))))
    n = len(passages)
    return {t: math.log(1 + n / c) for t, c in df.items()} | {"__unseen__": math.log(1 + n)}


class _Idf(dict[str, float]):
    """IDF that treats a term never seen in the corpus as the rarest kind."""

    def __init__(self, base: Mapping[str, float]) -> None:
        super().__init__(base)
        self.unseen = base.get("__unseen__", 8.0)

    def get(self, key: str, default: float | None = None) -> float:  # type: ignore[override]
        return super().get(key, self.unseen)


@dataclass
class _Citations:
    """Numbers passages in the order they are first cited or listed."""

    items: list[tuple[Hit, str]]

    def number(self, hit: Hit) -> int:
        for i, (h, _) in enumerate(self.items):
            if h.passage.id == hit.passage.id:
                return i + 1
        self.items.append((hit, ""))
        return len(self.items)


def _distinct(items: Sequence[Scored]) -> list[Scored]:
    out: list[Scored] = []
    for s in items:
        if not any(s.text in o.text or o.text in s.text for o in out):
            out.append(s)
    return out


class QA:
    def __init__(self, corpus: Corpus, searcher: Searcher, targets: Sequence[Target]) -> None:
        self.corpus = corpus
        self.searcher = searcher
        self.targets = tuple(targets)
        self.idf = _Idf(compute_idf(corpus.passages))
        self.titles = {d.meta.id: d.meta.title for d in corpus.documents}
        self.by_id = {p.id: p for p in corpus.passages}

    def _hit(self, passage: Passage, score: float = 0.0, rank: int = 99) -> Hit:
        return Hit(passage, score, rank, self.titles[passage.doc_id])

    def retrieve(self, q: Query, doc_ids: Sequence[str] | None, depth: int) -> list[Hit]:
        ranking = self.searcher.rank(q.search_text, "hybrid", doc_ids, depth=50)
        return self.searcher.hits(ranking, depth, "hybrid")

    def answers_question(self, q: Query, hits: Sequence[Hit]) -> bool:
        if not hits:
            return False
        top = [index_text(h.passage) for h in hits[:5]]
        for year in q.years:
            if not any(year in t for t in top):
                return False  # a year the retrieved text never speaks of
        best = max(coverage(t, q.groups, self.idf) for t in top)
        return best >= MIN_COVERAGE or (q.county is not None or q.sector is not None)

    def ask(
        self, question: str, top_k: int = 5, doc_ids: Sequence[str] | None = None
    ) -> tuple[Answer, Query]:
        self.searcher.check_doc_ids(doc_ids)
        q = analyse(question, self.titles)
        scope = list(doc_ids or q.doc_ids) or None
        hits = self.retrieve(q, scope, max(top_k, CANDIDATES))
        if not self.answers_question(q, hits):
            related = tuple(Citation(i + 1, h, quote_for(h, [], [])) for i, h in enumerate(hits[:3]))
            return Answer(ABSTAIN_TEXT, True, (), related, ()), q
        return self.compose(q, hits, top_k), q

    def _indicators(self, q: Query, hits: Sequence[Hit]) -> list[tuple[Target, Hit]]:
        rows = {h.passage.id: h for h in hits[:4] if h.passage.kind == "table_row"}
        out = []
        for t in self.targets:
            hit = rows.get(t.passage_id)
            if hit and t.scope_kind == "city" and coverage(t.what + t.unit, q.terms, self.idf) >= 0.3:
                out.append((t, hit))
        return out

    def compose(self, q: Query, hits: list[Hit], top_k: int) -> Answer:
        # Passages are numbered in the order the answer uses them, then the other best hits follow.
        cites = _Citations([])
        lines: list[str] = []
        chosen: list[Scored] = []
        used_targets: list[Target] = []
        scored = score_sentences(q, hits, self.idf)

        for t, hit in self._indicators(q, hits):
            lines.append(indicator_sentence(t, f"[{cites.number(hit)}]"))
            used_targets.append(t)

        if q.county is not None:
            lines.extend(self._county_lines(q, cites, chosen, used_targets))
        if not lines:
            picked = pick_sentences(scored)
            chosen.extend(picked)
            for s in picked:
                lines.append(f"{s.text.rstrip('。；;')}[{cites.number(s.hit)}]。")
        if q.sector is not None and not (q.wants_deadline or q.wants_number):
            lines.extend(self._law_lines(q, cites, chosen))

        for h in hits:
            if len(cites.items) >= top_k:
                break
            cites.number(h)
        citations = []
        for i, (hit, _) in enumerate(cites.items):
            citations.append(Citation(i + 1, hit, quote_for(hit, chosen, scored)))
        return Answer("".join(lines), False, tuple(citations), (), tuple(used_targets))

    def _county_lines(
        self, q: Query, cites: _Citations, chosen: list[Scored], used: list[Target]
    ) -> list[str]:
        assert q.county is not None
        county = q.county
        lines = [f"{county.name}属于{county.zone}。"]
        named = [self._hit(p) for p in county_passages(self.corpus, county)]
        scored = score_sentences(q, named, self.idf)
        zones = [z for z in (county.zone, "北部协同发展区", "中部发展引领区", "南部优化发展区")]
        own = [
            s
            for s in scored
            if any(a in s.text for a in county.names) and not any(z in s.text for z in zones)
        ]
        # Every task that names the county is listed, in the plan's order, not only the best match.
        own.sort(key=lambda s: (self.corpus.passages.index(s.hit.passage), s.start))
        for s in _distinct(own)[:4]:
            chosen.append(s)
            lines.append(f"点名{county.name}的任务：{s.text.rstrip('。；;')}[{cites.number(s.hit)}]。")
        zone = sorted(
            (s for s in scored if county.zone in s.text),
            key=lambda s: (self.corpus.passages.index(s.hit.passage), s.start),
        )
        if zone:
            # The sentence that defines the zone, and the one after it, which says what the zone must do.
            first = zone[0]
            parts = [first, *self._next_sentence(first)]
            chosen.extend(parts)
            text = "".join(x.text for x in parts).rstrip("。；;")
            lines.append(f"{county.zone}的定位：{text}[{cites.number(first.hit)}]。")
        applicable = targets_for(self.targets, self.corpus, county=county.name)
        binding = [t for t in applicable if t.scope_kind == "city" and t.attribute == "约束性"]
        if binding:
            row = self.by_id.get(binding[0].passage_id)
            marker = f"[{cites.number(self._hit(row))}]" if row else ""
            lines.append(
                f"全市{len(binding)}项约束性指标同样适用于{county.name}（见目标表），"
                f"如{binding[0].what}2025年目标{binding[0].value}{binding[0].unit}{marker}。"
            )
        used.extend(t for t in applicable if t not in used)
        return lines

    def _next_sentence(self, s: Scored) -> list[Scored]:
        """The sentence right after ``s``, even when a passage boundary falls between them."""
        from indexer.chunk import sentences

        p = s.hit.passage
        rest = [(a, b) for a, b in sentences(p.text) if a >= s.end]
        if rest:
            return [Scored(s.hit, rest[0][0], rest[0][1], 0.0)]
        i = self.corpus.passages.index(p)
        if i + 1 < len(self.corpus.passages):
            nxt = self.corpus.passages[i + 1]
            if nxt.doc_id == p.doc_id and nxt.section == p.section:
                a, b = sentences(nxt.text)[0]
                return [Scored(self._hit(nxt), a, b, 0.0)]
        return []

    def _law_lines(self, q: Query, cites: _Citations, chosen: list[Scored]) -> list[str]:
        assert q.sector is not None
        docs = [d for d in q.sector.law_doc_ids if d in self.titles]
        if not docs:
            return []
        hits = self.searcher.hits(self.searcher.rank(q.search_text, "hybrid", docs, depth=10), 2, "hybrid")
        scored = score_sentences(q, hits, self.idf)
        lines = []
        for s in pick_sentences(scored, max_n=1):
            chosen.append(s)
            article = s.hit.passage.section[-1]
            body = s.text.removeprefix(article).strip().rstrip("。；;")
            lines.append(f"相关法规：《{s.hit.doc_title}》{article}规定，{body}[{cites.number(s.hit)}]。")
        return lines
