"""Answers from the indicator table: each matching row as a target statement."""

from __future__ import annotations

import re
from collections.abc import Sequence

from indexer.records import Hit

from .. import wording
from ..analyze import Query
from ..answer import Scored, coverage, flat, pick_sentences
from ..draft import Line, Piece, quoted
from ..targets import BASELINE_YEAR, Target
from .context import Context

TABLE_YEARS = (BASELINE_YEAR, "2025")
MIN_ROW_MATCH = 0.25  # share of the question's words an indicator's name must carry
STRONG_ROW_MATCH = 0.6
EXTRA_MATCH = 0.5  # a body sentence joins an indicator answer only when it is about the same thing
_DIGIT = re.compile(r"\d")
_YEAR_IN_TEXT = re.compile(r"20\d\d年")


def matching_rows(ctx: Context, q: Query, hits: Sequence[Hit]) -> tuple[list[tuple[Target, Hit]], bool]:
    """Indicator-table rows among the best hits that the question is about, best first, and
    whether the best of them matches the question strongly."""
    if any(y not in TABLE_YEARS for y in q.years):
        return [], False  # the table speaks of 2020 and 2025 only
    rows = {h.passage.id: h for h in hits[:5] if h.passage.kind == "table_row"}
    # Single characters match inside unrelated names (线 in 红线); rows are matched on words.
    words = [g for g in q.groups if len(g[0]) > 1 or g[0].isascii()]
    cands = []
    for t in ctx.targets:
        hit = rows.get(t.passage_id)
        if hit is not None and t.scope_kind == "city":
            cands.append((coverage(f"{t.what}{t.unit}", words, ctx.idf), t, hit))
    if not cands:
        return [], False
    best = max(c[0] for c in cands)
    if best < MIN_ROW_MATCH:
        return [], False
    cands.sort(key=lambda c: (-c[0], c[2].rank))
    chosen = [(t, hit) for cov, t, hit in cands if cov >= 0.75 * best][:4]
    return chosen, best >= STRONG_ROW_MATCH and (q.wants_number or q.wants_targets)


def category_rows(ctx: Context, q: Query) -> list[tuple[Target, Hit]]:
    """Every row of the table category the question names, in the table's order, when it asks
    which items the category holds ("“生态保护”这一类下列了哪几项指标？"); [] otherwise."""
    if not q.asks_listing:
        return []
    asked = flat(q.question)
    named = {t.category for t in ctx.targets if t.category and flat(t.category) in asked}
    if len(named) != 1:
        return []  # none named, or several: the question is about their relation, not a list
    (category,) = named
    rows = [t for t in ctx.targets if t.category == category and t.passage_id in ctx.by_id]
    return [(t, ctx.hit(ctx.by_id[t.passage_id], rank=1)) for t in sorted(rows, key=lambda t: t.id)]


def category_line(ctx: Context, rows: Sequence[tuple[Target, Hit]]) -> Line:
    """How many indicators the category holds and their numbers, from the table's records
    (indicator 8 spans four rows and counts once)."""
    number_of = {ind.passage_id: ind.number for ind in ctx.corpus.indicators}
    numbers = sorted({number_of[t.passage_id] for t, _ in rows if t.passage_id in number_of})
    return Line("label", (Piece(wording.category_count(rows[0][0].category, numbers), None, "。"),))


def leads(q: Query, rows: Sequence[tuple[Target, Hit]], strong: bool, scored: Sequence[Scored]) -> bool:
    """A table row leads when the question asks for targets, when it is simply the best match,
    or when it gives what the question asks for and the best sentence does not."""
    if not rows:
        return False
    if q.asks_table or strong or rows[0][1].rank == 1 or not scored:
        return True
    return _row_gives_more(q, rows[0][0], flat(scored[0].text))


def _row_gives_more(q: Query, t: Target, best: str) -> bool:
    """The row states a figure for the year asked (2020年一年平均是多少) or in the unit asked (各减
    掉多少万吨), which the best sentence lacks: the row answers, the sentence only speaks nearby."""
    asked = q.asked_years
    if asked and _gives_figure(t, q) and not any(y in best for y in asked):
        return True
    unit = flat(t.unit)
    return len(unit) > 1 and not unit.isascii() and unit in flat(q.question) and unit not in best


def target_source(t: Target) -> str:
    """The values a target statement conveys, as the decision step checks them."""
    return f"{t.what}{t.year}年{t.value}{t.unit}{t.baseline}{t.attribute}"


def indicator_line(t: Target, hit: Hit | None) -> Line:
    return Line("indicator", (Piece(wording.indicator(t), hit, "。", target_source(t)),), t)


def _gives_figure(t: Target, q: Query) -> bool:
    """Whether the row states a figure for a year asked (its target year when none is named):
    林木覆盖率 has none for 2025 (不降低) but one for 2020 (35.03%)."""
    years = q.asked_years or (t.year,)
    return any(
        (y == t.year and _DIGIT.search(t.value)) or (y == BASELINE_YEAR and _DIGIT.search(t.baseline))
        for y in years
    )


def compose_indicators(
    ctx: Context, q: Query, rows: Sequence[tuple[Target, Hit]], scored: Sequence[Scored]
) -> list[Line]:
    lines = [indicator_line(t, hit) for t, hit in rows]
    # The body text may state the same goal more sharply ("稳定在35%以上" beside "不降低").
    for x in pick_sentences(scored, max_n=1):
        if (
            q.wants_number
            and _DIGIT.search(_YEAR_IN_TEXT.sub("", x.text))
            and coverage(x.text, q.groups, ctx.idf) >= EXTRA_MATCH
        ):
            # When no row gives a figure (不降低, 稳中向好), the sentence with one answers first.
            sentence = Line("sentence", (quoted(x),))
            # A question for the table's 2020 column keeps the row first, figure or "-": the
            # table is where the baselines are, and a body sentence of 2020 speaks of other things.
            figures = BASELINE_YEAR in q.asked_years or any(_gives_figure(t, q) for t, _ in rows)
            lines = [*lines, sentence] if figures else [sentence, *lines]
    return lines
