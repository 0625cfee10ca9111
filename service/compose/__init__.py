"""Composers, one per kind of answer; `compose` picks and combines them for one question."""

from __future__ import annotations

from collections.abc import Sequence

from indexer.records import Hit

from ..analyze import Query
from ..answer import pick_sentences, score_sentences
from ..draft import Draft, Line, spans
from ..targets import Target
from .context import PLAN_ID, Context
from .county import county_lines, county_targets, zone_lines
from .general import article_lines, counterpart_lines, restating_lead, sentence_lines, whole_short_passages
from .indicator import category_line, category_rows, compose_indicators, leads, matching_rows
from .sector import law_lines, sector_lines

__all__ = ["Context", "compose"]


def by_score(lines: Sequence[Line]) -> list[Line]:
    """Sentence lines best first: what retrieval found and what names the trade, on one scale."""

    def score(line: Line) -> float:
        return max((p.span.score for p in line.pieces if p.span is not None), default=0.0)

    return sorted(lines, key=score, reverse=True)


def compose(ctx: Context, q: Query, hits: Sequence[Hit], scope: Sequence[str] | None = None) -> Draft:
    """The draft answer from the hits. ``scope``, the documents the question was asked within
    (named in it, or by the caller), holds every line: a composer that gathers passages of its
    own (a trade's plan sentences and governing article, a county's tasks) stays inside it."""
    scored = score_sentences(q, hits, ctx.idf)
    lines: list[Line] = []
    targets: list[Target] = []

    listed = category_rows(ctx, q)
    rows, strong = (listed, True) if listed else matching_rows(ctx, q, hits)
    if listed or leads(q, rows, strong, scored):
        lines += compose_indicators(ctx, q, rows, scored)
        targets += [t for t, _ in rows]
    if listed:
        lines.append(category_line(ctx, listed))

    if q.county is not None:
        lines += county_lines(ctx, q, hits)
        targets += [t for t in county_targets(ctx, q) if t not in targets]
    elif q.zone is not None:
        lines += zone_lines(ctx, q.zone, {h.passage.id: h for h in hits}, q)
    wants_rules = q.asks_rules and not (q.wants_deadline or q.wants_number)
    general = not lines and q.county is None and q.zone is None
    if not lines:
        picked = pick_sentences(scored)
        if picked and picked[0].hit.passage.kind == "article":
            lead = restating_lead(ctx, q, picked[0], scored)
            lines += article_lines(ctx, lead)
            if q.asks_penalty:
                lines += counterpart_lines(lead, scored)
            general = False  # a statute's article answers; the plan's sentences only add to it
        else:
            picked = picked[:2] if wants_rules else picked
            if not (q.wants_number or q.wants_deadline):  # a value is best given in its own sentence
                picked = whole_short_passages(picked)
            lines += sentence_lines(picked)
    # A question asked of one statute ("按水污染防治法…") wants what it says: the plan's sentences
    # on the trade, or another law's article, answer another question.
    if wants_rules and (scope is None or PLAN_ID in scope):
        lines += sector_lines(ctx, q, spans(lines), hits)
        if general:
            lines = by_score(lines)
    if wants_rules:
        lines += law_lines(ctx, q, spans(lines), scope)
    if scope is not None:
        lines = [
            line for line in lines if all(p.hit is None or p.hit.passage.doc_id in scope for p in line.cited)
        ]
        targets = [
            t for t in targets if t.passage_id in ctx.by_id and ctx.by_id[t.passage_id].doc_id in scope
        ]
    return Draft(tuple(lines), tuple(scored), tuple(targets))
