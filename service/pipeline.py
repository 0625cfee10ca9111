"""From a question to an Answer: analyse → retrieve → decide → compose → decide → render.

Each stage is a function over frozen records (service/analyze.py, compose/, decide.py, draft.py);
this module only wires them together and answers multi-part questions part by part.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import cached_property

from indexer.abbrev import expansions
from indexer.corpus import Corpus, index_text
from indexer.records import Hit, Passage
from indexer.search import Searcher
from indexer.tokenize import tokens

from . import decide, wording
from .analyze import Query, analyse
from .answer import Answer, Citation, flat, quote_for
from .compose import Context, compose
from .compose.context import PLAN_ID
from .draft import Draft, Line, Piece, merge, piece_key, render, unrepeated
from .places import covered_places
from .targets import Target

CANDIDATES = 8


def compute_idf(passages: Sequence[Passage]) -> dict[str, float]:
    """IDF of the words of the passages' index texts, counted here (without an index at hand)."""
    df: Counter[str] = Counter()
    for p in passages:
        df.update(set(tokens(index_text(p))))
    return idf_table(df, len(passages))


def idf_table(df: Mapping[str, int], n: int) -> dict[str, float]:
    """IDF from document frequencies: the word BM25 index has them, see ``SparseIndex``."""
    idf = {t: math.log(1 + n / c) for t, c in df.items() if c}
    # A word the documents never use says nothing about which passage answers, so it weighs like
    # their commonest word. Weighed like the rarest one, everyday words no passage contains
    # (巴西龟, 川菜馆) outweighed the words the passages share with the question (dev split:
    # hit@1 0.785 → 0.819, false abstentions 0.020 → 0.007, abstention recall unchanged).
    return idf | {"__unseen__": min(idf.values(), default=1.0)}


class _Idf(dict[str, float]):
    """IDF that weighs a term never seen in the corpus like the commonest one."""

    def __init__(self, base: Mapping[str, float]) -> None:
        super().__init__(base)
        self.unseen = base.get("__unseen__", 8.0)

    def get(self, key: str, default: float | None = None) -> float:  # type: ignore[override]
        return super().get(key, self.unseen)


class QA:
    def __init__(
        self,
        corpus: Corpus,
        searcher: Searcher,
        targets: Sequence[Target],
        everyday: bool = True,
        idf: Mapping[str, float] | None = None,
    ) -> None:
        """``idf`` defaults to counting the corpus's words (``compute_idf``); the engine passes
        the one its word index already holds, which at library size saves a minute of start-up."""
        self.everyday = everyday
        self.corpus = corpus
        self.searcher = searcher
        self.targets = tuple(targets)
        self.idf = _Idf(compute_idf(corpus.passages) if idf is None else idf)
        self.covered_places = covered_places(p.text for p in corpus.passages)
        self.ctx = Context(corpus, searcher, self.targets, self.idf)
        self.titles = self.ctx.titles

    @cached_property
    def flat_text(self) -> str:
        """The whole corpus as quoted names are matched against it; built once, by ``warm`` at
        start-up or else by the first question that quotes a name."""
        return "\n".join(flat(p.text) for p in self.corpus.passages)

    def warm(self) -> None:
        from .vocab import load_vocab

        vocab = load_vocab()
        self.ctx.warm(vocab.counties, vocab.sectors)
        _ = self.flat_text

    def retrieve(self, q: Query, doc_ids: Sequence[str] | None, depth: int) -> list[Hit]:
        # Inside the plan, its own name says nothing about which passage is meant.
        text = q.plan_text if doc_ids == [PLAN_ID] else (q.search_text or q.question)
        ranking = self.searcher.rank(text, "hybrid", doc_ids, depth=50, expansion=" ".join(q.expansions))
        return self.searcher.hits(ranking, depth, "hybrid")

    def _scope(self, q: Query, doc_ids: Sequence[str] | None) -> list[str] | None:
        scope = list(doc_ids or q.doc_ids) or None
        if scope is None and q.asks_plan and PLAN_ID in self.titles:
            scope = [PLAN_ID]  # "规划里怎么说": the asker wants the plan, not the statute book
        return scope

    def _draft(
        self, q: Query, doc_ids: Sequence[str] | None, top_k: int
    ) -> tuple[Draft | None, list[Hit], str | None]:
        """The draft answer (None when declined before composing), the hits it rests on, and why
        the documents do not answer (None when they do)."""
        scope = self._scope(q, doc_ids)
        hits = self.retrieve(q, scope, max(top_k, CANDIDATES))
        reason = decide.screen(q, hits, self.idf, self.covered_places)
        if reason is not None:
            return None, hits, reason
        draft = compose(self.ctx, q, hits, scope)
        known = tuple(name for name in q.quoted if name in self.flat_text) if q.quoted else ()
        return draft, hits, decide.check(q, draft, self.covered_places, self.idf, known, self._spellings(q))

    def _spellings(self, q: Query) -> tuple[tuple[str, ...], ...]:
        """The short forms the question asks about, each with every spelling the corpus uses
        for it (挥发性有机物 for VOCs, learnt from the documents) beside the everyday table's."""
        channels = self.searcher.index.channels
        pairs = channels.abbreviations if channels is not None else ()
        return tuple(tuple(dict.fromkeys([*forms, *expansions(forms[0], pairs)])) for forms in q.named_forms)

    def ask(
        self, question: str, top_k: int = 5, doc_ids: Sequence[str] | None = None
    ) -> tuple[Answer, Query]:
        self.searcher.check_doc_ids(doc_ids)
        q = analyse(question, self.titles, self.everyday)
        if q.parts:
            answer = self._ask_parts(q, top_k, doc_ids)
            if answer is not None:
                return answer, q
        draft, hits, reason = self._draft(q, doc_ids, top_k)
        if draft is not None and reason is None:
            return render(draft, hits, top_k), q
        # A declined draft still shows what it found; otherwise the best hits are related.
        related = render(draft, hits, top_k).citations[:3] if draft is not None else None
        return self._declined(hits, reason, related), q

    def _ask_parts(self, q: Query, top_k: int, doc_ids: Sequence[str] | None) -> Answer | None:
        """Each part answered on its own and labelled; None when no part is answered."""
        drafts: list[Draft] = []
        lines: list[Line] = []
        listed: list[Hit] = []
        given: dict[str, int] = {}  # what each earlier part quoted → its number
        value_missing: list[str] = []  # why a part asking for a value was declined
        for i, part in enumerate(q.parts, start=1):
            pq = analyse(part.question, self.titles, self.everyday)
            draft, hits, reason = self._draft(pq, doc_ids, top_k)
            lines.append(Line("label", (Piece(wording.part_label(i, part.label)),)))
            if draft is None or reason is not None:
                lines.append(Line("label", (Piece(wording.part_not_found()),)))
                if reason and pq.asked_value is not None:
                    value_missing.append(reason)
                continue
            own, earlier = unrepeated(draft.lines, given)
            # The scene all parts share outweighed this part's own words: asked alone, the part
            # may find what answers it rather than what answered the part before. It is asked
            # inside the documents it found with the scene, since without the scene it may no
            # longer name its subject ("我能向哪些部门申请？") (dev: hit@1 0.826 → 0.829, key facts
            # 0.832 → 0.838 over asking it unscoped). A later part keeps the first clause's subject,
            # which may still lead it back to the first part's article; its bare clause is tried
            # last (dev: key facts 0.840 → 0.843). Only a part cut at its clauses after a scene has
            # its own words, and only its label is a clause: an item part's label (PM2.5) is not.
            within = doc_ids or list(dict.fromkeys(h.passage.doc_id for h in hits[:3]))
            for alone_text in dict.fromkeys(t for t in (part.own, part.label if part.own else "") if t):
                if any(line.cited for line in own):
                    break
                pq = analyse(alone_text, self.titles, self.everyday)
                alone, _, why = self._draft(pq, within or None, top_k)
                if alone is not None and why is None:
                    draft = alone
                    own, earlier = unrepeated(alone.lines, given)
            if not any(line.cited for line in own):  # one article may answer two parts: quoted once
                lines.append(Line("label", (Piece(wording.part_same(earlier or 1)),)))
                continue
            for key in (piece_key(p) for line in own for p in line.cited):
                given.setdefault(key, i)
            drafts.append(draft)
            lines += own
            listed += hits[:2]
        if not drafts:
            return None
        # A value one part asks for is missing, and what answers the others leaves the detail to
        # other rules (规模标准…确定, 具体管理办法由国务院制定): the documents do not answer the
        # question, they say where its answer is set (dev: abstention recall +0.016, nothing
        # lost; declining on any missing value instead also declined seven answerable questions).
        if value_missing and decide.left_to_other_rules(drafts):
            quoted = render(merge(drafts, lines), listed, top_k).citations[:3]
            return self._declined(listed, wording.deferred(value_missing[0]), quoted)
        lead, found = self._main_source(q, doc_ids, top_k, drafts)
        # What the whole question finds fills the places the parts leave (dev multi-part hit@5
        # 0.943 → 0.951): a part asked on its own may miss a passage the question as a whole finds.
        listed += found
        if lead is not None:
            heading = lead.passage.section[-1] if lead.passage.section else ""
            lines.insert(0, Line("lead", (Piece(wording.main_source(lead.doc_title, heading), lead, "。"),)))
        return render(merge(drafts, lines), listed, max(top_k, len(q.parts) * 2))

    def _main_source(
        self, q: Query, doc_ids: Sequence[str] | None, top_k: int, drafts: Sequence[Draft]
    ) -> tuple[Hit | None, list[Hit]]:
        """The passage the question as a whole is best answered from, when a part quotes it too
        (None otherwise): it is named first, so the answer says at once what it chiefly rests
        on. And the passages the whole question finds, listed after the parts' own."""
        whole, hits, reason = self._draft(q, doc_ids, top_k)
        if whole is None or reason is not None:
            return None, hits
        cited = whole.cited_pieces()
        if not cited or cited[0].hit is None:
            return None, hits
        lead = cited[0].hit
        used = {p.hit.passage.id for d in drafts for p in d.cited_pieces() if p.hit is not None}
        return (lead if lead.passage.id in used else None), hits

    @staticmethod
    def _declined(hits: Sequence[Hit], reason: str | None, found: Sequence[Citation] | None) -> Answer:
        if found is None:
            found = [Citation(i + 1, h, quote_for(h, [], [])) for i, h in enumerate(hits[:3])]
        related = tuple(Citation(i + 1, c.hit, c.quote) for i, c in enumerate(found))
        return Answer(f"{wording.ABSTAIN}{reason or ''}", True, (), related, ())
