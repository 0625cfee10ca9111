"""Structure of the plan: heading tree, passages with spans, and the indicator records."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .chunk import group_spans, lead_sentence
from .clean import Block, split_blocks
from .records import DocumentMeta, Heading, Indicator, ParsedDocument, Passage
from .table import TABLE_HEADER, parse_indicator_table, render_row, with_passage_ids

_LEVEL = {"chapter": 1, "section": 2, "box": 2, "table_title": 3}
# Inside a 专栏 the items run together in one paragraph: "…。传统产业高质量发展工程：…".
_BOX_ITEM = re.compile(r"(?:^|(?<=。))([^。：；，、]{2,24})：")


@dataclass(frozen=True)
class PlanParse:
    document: ParsedDocument
    indicators: tuple[Indicator, ...]


class _Builder:
    """Accumulates the cleaned text while recording headings and passage spans."""

    def __init__(self, meta: DocumentMeta) -> None:
        self.meta = meta
        self.parts: list[str] = []
        self.length = 0
        self.path: list[tuple[int, str]] = []
        self.headings: list[Heading] = []
        self.passages: list[Passage] = []

    def append(self, text: str) -> int:
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start

    def heading(self, level: int, title: str) -> None:
        start = self.append(title)
        self.path = [(lv, t) for lv, t in self.path if lv < level] + [(level, title)]
        self.headings.append(Heading(level, title, start))

    def section(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.path) or (self.meta.title,)

    def passage(self, text: str, start: int, kind: str, topic: str = "") -> str:
        pid = f"{self.meta.id}:{len(self.passages):04d}"
        self.passages.append(
            Passage(pid, self.meta.id, self.section(), text, start, start + len(text), kind, topic)
        )
        return pid

    def text(self) -> str:
        return "".join(self.parts)


def _box_items(text: str) -> list[tuple[int, int, str]]:
    """(start, end, item name) for each item of a 专栏 paragraph."""
    starts = [(m.start(), m.group(1)) for m in _BOX_ITEM.finditer(text)]
    if not starts or starts[0][0] != 0:
        starts = [(0, ""), *starts]
    out = []
    for i, (s, name) in enumerate(starts):
        e = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        out.append((s, e, name))
    return out


def _add_paragraph(b: _Builder, block: Block, in_box: bool) -> None:
    start = b.append(block.text)
    if in_box:
        for s, e, name in _box_items(block.text):
            item = block.text[s:e]
            for gs, ge in group_spans(item):
                b.passage(item[gs:ge], start + s + gs, "box_item", name)
        return
    topic = lead_sentence(block.text)
    for gs, ge in group_spans(block.text):
        b.passage(block.text[gs:ge], start + gs, "paragraph", topic)


def parse_plan(meta: DocumentMeta, raw: str) -> PlanParse:
    b = _Builder(meta)
    indicators: list[Indicator] = []
    in_box = False
    for block in split_blocks(raw):
        if block.kind == "title":
            b.append(block.text)
        elif block.kind in _LEVEL:
            in_box = block.kind == "box"
            b.heading(_LEVEL[block.kind], block.text)
        elif block.kind == "table":
            rows = parse_indicator_table(block.text)
            b.append(TABLE_HEADER)
            ids = []
            for ind in rows:
                line = render_row(ind)
                ids.append(b.passage(line, b.append(line), "table_row", ind.name))
            indicators = with_passage_ids(rows, ids)
        else:
            _add_paragraph(b, block, in_box)
    doc = ParsedDocument(meta, b.text(), tuple(b.headings), tuple(b.passages))
    return PlanParse(doc, tuple(indicators))
