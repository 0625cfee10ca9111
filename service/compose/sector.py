"""Answers for a trade: plan sentences that name it, and one article of the laws that govern it."""

from __future__ import annotations

from collections.abc import Sequence

from indexer.records import Hit

from .. import wording
from ..analyze import Query
from ..answer import Scored, pick_sentences, score_sentences
from ..draft import Line, Piece, quoted
from .context import Context, distinct

MAX_SECTOR_SENTENCES = 3
LAW_CANDIDATES = 10


def sector_lines(ctx: Context, q: Query, chosen: Sequence[Scored], hits: Sequence[Hit] = ()) -> list[Line]:
    """Plan sentences that name the trade itself, best first, a few at most.

    A passage that retrieval found keeps its rank, so its sentences score like the question's
    other candidates and the two can be ordered together."""
    assert q.sector is not None
    found = {h.passage.id: h for h in hits}
    named = [found.get(p.id) or ctx.hit(p) for p in ctx.sector_passages(q.sector)]
    scored = [s for s in score_sentences(q, named, ctx.idf) if any(n in s.text for n in q.sector.names)]
    lines: list[Line] = []
    taken = list(chosen)
    for s in distinct(scored):
        if len(lines) >= MAX_SECTOR_SENTENCES:
            break
        if any(s.text in c.text or c.text in s.text for c in taken):
            continue
        taken.append(s)
        lines.append(Line("sentence", (quoted(s),)))
    return lines


def law_lines(
    ctx: Context, q: Query, chosen: Sequence[Scored], scope: Sequence[str] | None = None
) -> list[Line]:
    """The best-matching article of the laws that govern the trade (of those in ``scope``)."""
    assert q.sector is not None
    docs = [d for d in q.sector.law_doc_ids if d in ctx.titles and (scope is None or d in scope)]
    if not docs:
        return []
    ranking = ctx.searcher.rank(
        q.search_text or q.question, "hybrid", docs, depth=LAW_CANDIDATES, expansion=" ".join(q.expansions)
    )
    hits = ctx.searcher.hits(ranking, 2, "hybrid")
    lines = []
    for s in pick_sentences(score_sentences(q, hits, ctx.idf), max_n=1):
        if any(c.hit.passage.id == s.hit.passage.id for c in chosen):
            continue
        article = s.hit.passage.section[-1]
        body = wording.sentence_body(s.text.removeprefix(article).strip())
        text = wording.related_law(s.hit.doc_title, article, body)
        lines.append(Line("law", (Piece(text, s.hit, "。", s.text, s),)))
    return lines
