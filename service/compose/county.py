"""Answers about a county or a zone: the tasks that name it, its zone's text, the city targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from indexer.chunk import sentences
from indexer.records import Hit, Passage

from .. import wording
from ..analyze import Query
from ..answer import Scored, score_sentences
from ..draft import Line, Piece, quoted
from ..targets import Target, targets_for
from .context import PLAN_ID, ZONES, Context, distinct
from .indicator import target_source

MAX_TASKS = 4
MAX_ZONE_SENTENCES = 6


def zone_segment(ctx: Context, zone: str) -> list[Passage]:
    """The plan's passages on a zone, from the one that defines it."""
    start = next((p for p in ctx.passages if p.doc_id == PLAN_ID and f"{zone}，" in p.text), None)
    if start is None:
        return []
    out: list[Passage] = []
    i = ctx.pos[start.id]
    while i < len(ctx.passages) and len(out) < MAX_ZONE_SENTENCES:
        p = ctx.passages[i]
        if p.section != start.section or p.topic != start.topic:
            break
        out.append(p)
        i += 1
    return out


def zone_sentences(
    ctx: Context, zone: str, retrieved: Mapping[str, Hit] | None = None, q: Query | None = None
) -> list[Scored]:
    """The plan's text on a zone: its defining sentence up to where the next zone begins, each
    sentence scored against the question when there is one."""
    others = [z for z in ZONES if z != zone]
    retrieved = retrieved or {}
    hits = [retrieved.get(p.id) or ctx.hit(p) for p in zone_segment(ctx, zone)]
    score: dict[tuple[str, int], float] = {}
    if q is not None:
        score = {(s.hit.passage.id, s.start): s.score for s in score_sentences(q, hits, ctx.idf)}
    out: list[Scored] = []
    for hit in hits:
        text = hit.passage.text
        for a, b in sentences(text):
            sent = text[a:b]
            if not out and zone not in sent:
                continue
            if out and any(z in sent for z in others):
                return out
            out.append(Scored(hit, a, b, score.get((hit.passage.id, a), 0.0)))
            if len(out) >= MAX_ZONE_SENTENCES:
                return out
    return out


def zone_lines(
    ctx: Context, zone: str, retrieved: Mapping[str, Hit] | None = None, q: Query | None = None
) -> list[Line]:
    parts = zone_sentences(ctx, zone, retrieved, q)
    if not parts:
        return []
    return [Line("zone", (Piece(wording.zone_intro(zone)), *(quoted(x) for x in parts)))]


def _line_score(line: Line) -> float:
    return max((p.span.score for p in line.pieces if p.span is not None), default=float("-inf"))


def county_lines(ctx: Context, q: Query, hits: Sequence[Hit]) -> list[Line]:
    assert q.county is not None
    county = q.county
    lines = [Line("county", (Piece(wording.county_zone(county.name, county.zone)),))]
    retrieved = {h.passage.id: h for h in hits}
    named = [retrieved.get(p.id) or ctx.hit(p) for p in ctx.county_passages(county)]
    own = [
        s
        for s in score_sentences(q, named, ctx.idf)
        if any(a in s.text for a in county.names) and not any(z in s.text for z in ZONES)
    ]
    # A question about the county's duties in general gets every task that names it, in the
    # plan's order; a question about one thing there gets the best matching tasks first.
    general = q.wants_targets or q.asks_zone
    if general:
        own.sort(key=lambda s: (ctx.pos[s.hit.passage.id], s.start))
    tasks = distinct(own)[:MAX_TASKS]
    task_lines = [Line("county_task", (Piece(wording.county_task(county.name)), quoted(s))) for s in tasks]
    zone = zone_lines(ctx, county.zone, retrieved, q)
    if general:
        # A question about the county's zone ("所在的功能区…") is answered by the zone first.
        lines += [*zone, *task_lines] if q.asks_zone else [*task_lines, *zone]
    else:
        best_task = max((s.score for s in tasks), default=float("-inf"))
        zone_first = bool(zone) and _line_score(zone[0]) > best_task
        lines += [*zone, *task_lines] if zone_first else [*task_lines, *zone]
    applicable = targets_for(ctx.targets, ctx.corpus, county=county.name)
    binding = [t for t in applicable if t.scope_kind == "city" and t.attribute == "约束性"]
    if binding:
        row = ctx.by_id.get(binding[0].passage_id)
        text = wording.binding_targets(len(binding), county.name, binding[0])
        piece = Piece(text, ctx.hit(row) if row else None, "。", target_source(binding[0]))
        lines.append(Line("binding", (piece,), binding[0]))
    return lines


def county_targets(ctx: Context, q: Query) -> list[Target]:
    assert q.county is not None
    return list(targets_for(ctx.targets, ctx.corpus, county=q.county.name))
