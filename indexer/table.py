"""Rebuilds the plan's 主要指标 table from its flattened, page-broken text.

The extractor wrote each table row as tab-separated cells, but merged cells and a page
break damaged it: the category column appears only on the first row of its group and is
sometimes split over two lines (``应对气候`` / ``变化``), indicator 10's name continues on a
line after a blank one, indicator 8 spans four rows with the number only on the first,
and two-digit numbers carry a stray space (``1 1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .clean import fix_inline
from .records import Indicator

ATTRIBUTES = ("约束性", "预期性")
HEADER_CELLS = ("规划指标", "指标属性")
_UNIT_RE = re.compile(r"^(.*)（(%|[万千]?吨|微克/立方米|[万千]?平方[千公]?米|[万千]?公顷|亿元|个|天)）$")


@dataclass
class _Row:
    number: int
    category_idx: int
    name: str
    baseline: str
    target: str
    attribute: str


@dataclass
class _State:
    categories: list[str] = field(default_factory=list)
    rows: list[_Row] = field(default_factory=list)


def _cells(line: str) -> list[str]:
    cells = [fix_inline(c) for c in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _is_number(cell: str) -> bool:
    return cell.isdigit()


def _consume(line: str, st: _State) -> None:
    cells = _cells(line)
    if not cells or any(h in cells for h in HEADER_CELLS):
        return
    if cells[-1] in ATTRIBUTES and len(cells) >= 4:
        baseline, target, attribute = cells[-3], cells[-2], cells[-1]
        front = cells[:-3]
        num_pos = next((i for i, c in enumerate(front) if _is_number(c)), None)
        if num_pos is not None:
            if num_pos > 0 and front[0]:
                st.categories.append(front[0])
            name = next((c for c in reversed(front[num_pos + 1 :]) if c), "")
            number = int(front[num_pos])
        else:
            # A sub-row of a multi-row indicator: no number, no category of its own.
            name = next((c for c in reversed(front) if c), "")
            number = st.rows[-1].number
        st.rows.append(_Row(number, len(st.categories) - 1, name, baseline, target, attribute))
        return
    # A fragment line left by the page break: its first cell continues the category
    # column, its later cells continue the previous row's indicator name.
    if cells[0] and st.categories:
        st.categories[-1] += cells[0]
    tail = "".join(c for c in cells[1:] if c)
    if tail and st.rows:
        st.rows[-1].name += tail


def is_indicator_table(table_text: str) -> bool:
    """A 主要指标 table: a header naming the indicator and attribute columns, rows ending in one."""
    cells = [_cells(line) for line in table_text.split("\n") if line.strip()]
    header = any(all(h in row for h in HEADER_CELLS) for row in cells)
    return header and any(row and row[-1] in ATTRIBUTES for row in cells)


def _split_unit(name: str) -> tuple[str, str]:
    m = _UNIT_RE.match(name)
    if m:
        return m.group(1), m.group(2)
    return name, ""


def parse_indicator_table(table_text: str) -> list[Indicator]:
    """Parses the raw table block into one record per indicator row (indicator 8 has four)."""
    st = _State()
    for line in table_text.split("\n"):
        if line.strip():
            _consume(line, st)
    out: list[Indicator] = []
    for row in st.rows:
        name, unit = _split_unit(row.name)
        category = st.categories[row.category_idx] if row.category_idx >= 0 else ""
        out.append(Indicator(row.number, category, name, unit, row.baseline, row.target, row.attribute))
    return out


def render_row(ind: Indicator) -> str:
    """One cleaned table line, in the source's column order, so quotes stay verifiable."""
    unit = f"（{ind.unit}）" if ind.unit else ""
    return "\t".join(
        [
            ind.category,
            str(ind.number),
            f"{ind.name}{unit}",
            ind.baseline_2020,
            ind.target_2025,
            ind.attribute,
        ]
    )


TABLE_HEADER = "\t".join(["类别", "序号", "规划指标", "2020年", "2025年", "指标属性"])


def with_passage_ids(indicators: list[Indicator], ids: list[str]) -> list[Indicator]:
    return [replace(ind, passage_id=pid) for ind, pid in zip(indicators, ids, strict=True)]
