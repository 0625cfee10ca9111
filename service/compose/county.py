"""Answers about a county or a zone: the tasks that name it, its zone's text, the city targets."""

from __future__ import annotations

from collections.abc import Sequence

from indexer.chunk import sentences

from .. import wording
from ..analyze import Query
from ..answer import Scored, score_sentences
from ..draft import Line, Piece, quoted
from ..targets import Target, targets_for
from .context import PLAN_ID, ZONES, Context, distinct
from .indicator import target_source

MAX_TASKS = 4
MAX_ZONE_SENTENCES = 6


def zone_segment(ctx: Context, zone: str) -> list[Scored]:
    """The plan's text on a zone: its defining sentence up to where the next zone begins."""
    others = [z for z in ZONES if z != zone]
    out: list[Scored] = []
    start = next((p for p in ctx.passages if p.doc_id == PLAN_ID and f"{zone}，" in p.text), None)
    if start is None:
        return out
    i = ctx.pos[start.id]
    while i < len(ctx.passages) and len(out) < MAX_ZONE_SENTENCES:
        p = ctx.passages[i]
        if p.section != start.section or p.topic != start.topic:
            break
        for a, b in sentences(p.text):
            sent = p.text[a:b]
            if not out and zone not in sent:
                continue
            if out and any(z in sent for z in others):
                return out
            out.append(Scored(ctx.hit(p), a, b, 0.0))
        i += 1
    return out


def zone_lines(ctx: Context, zone: str) -> list[Line]:
    parts = zone_segment(ctx, zone)
    if not parts:
        return []
    return [Line("zone", (Piece(wording.zone_intro(zone)), *(quoted(x) for x in parts)))]


def county_lines(ctx: Context, q: Query, chosen: Sequence[Scored]) -> list[Line]:
    assert q.county is not None
    county = q.county
    lines = [Line("county", (Piece(wording.county_zone(county.name, county.zone)),))]
    named = [ctx.hit(p) for p in ctx.county_passages(county)]
    own = [
        s
        for s in score_sentences(q, named, ctx.idf)
        if any(a in s.text for a in county.names) and not any(z in s.text for z in ZONES)
    ]
    # Every task that names the county is listed, in the plan's order, not only the best match.
    own.sort(key=lambda s: (ctx.pos[s.hit.passage.id], s.start))
    tasks = [
        Line("county_task", (Piece(wording.county_task(county.name)), quoted(s)))
        for s in distinct(own)[:MAX_TASKS]
    ]
    # A question about the county's zone ("所在的功能区…") is answered by the zone first.
    zone = zone_lines(ctx, county.zone)
    lines += [*zone, *tasks] if q.asks_zone else [*tasks, *zone]
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
