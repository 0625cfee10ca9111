"""The one structure parser: cleaned blocks → heading tree, passages with spans and ids.

Two layouts follow from the content, not from which file it is. A document whose unit is the
article (第X条: laws, regulations, 办法) gets one passage group per article, cited by its
number (``doc:a43``), with 章/节 above it. Any other document (plans, notices, implementation
schemes) is an outline of numbered headings whose paragraphs are cut into sentence groups,
numbered in reading order (``doc:0012``); 专栏 boxes are split into their named items, and a
table becomes one passage per row (the plan's indicator table, recognised by its columns,
also yields the indicator records).
"""

from __future__ import annotations

import re

from .chunk import group_spans, lead_sentence
from .clean import Block, fix_inline, split_blocks
from .laws import chinese_number
from .records import DocumentMeta, Heading, Indicator, ParsedDocument, Passage
from .table import TABLE_HEADER, is_indicator_table, parse_indicator_table, render_row, with_passage_ids

_HEADING_KINDS = ("chapter", "section", "heading", "annex", "box", "table_title")
# Inside a 专栏 the items run together in one paragraph: "…。传统产业高质量发展工程：…".
_BOX_ITEM = re.compile(r"(?:^|(?<=。))([^。：；，、]{2,24})：")


class _Builder:
    """Accumulates the cleaned text while recording headings and passage spans."""

    def __init__(self, meta: DocumentMeta, separator: str) -> None:
        self.meta = meta
        self.separator = separator
        self.parts: list[str] = []
        self.length = 0
        self.path: list[tuple[int, str]] = []
        self.headings: list[Heading] = []
        self.passages: list[Passage] = []

    def append(self, text: str) -> int:
        if self.parts:
            self.parts.append(self.separator)
            self.length += len(self.separator)
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start

    def heading(self, level: int, title: str) -> None:
        start = self.append(title)
        self.path = [(lv, t) for lv, t in self.path if lv < level] + [(level, title)]
        self.headings.append(Heading(level, title, start))

    def pop_to(self, level: int) -> None:
        self.path = [(lv, t) for lv, t in self.path if lv < level]

    def section(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.path) or (self.meta.title,)

    def add(
        self, pid: str, section: tuple[str, ...], text: str, start: int, kind: str, topic: str = ""
    ) -> str:
        end = start + len(text)
        self.passages.append(Passage(pid, self.meta.id, section, text, start, end, kind, topic))
        return pid

    def passage(self, text: str, start: int, kind: str, topic: str = "") -> str:
        return self.add(f"{self.meta.id}:{len(self.passages):04d}", self.section(), text, start, kind, topic)

    def document(self) -> ParsedDocument:
        return ParsedDocument(self.meta, "".join(self.parts), tuple(self.headings), tuple(self.passages))


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


def _paragraph(b: _Builder, text: str, in_box: bool) -> None:
    start = b.append(text)
    if in_box:
        for s, e, name in _box_items(text):
            item = text[s:e]
            for gs, ge in group_spans(item):
                b.passage(item[gs:ge], start + s + gs, "box_item", name)
        return
    topic = lead_sentence(text)
    for gs, ge in group_spans(text):
        b.passage(text[gs:ge], start + gs, "paragraph", topic)


def _table(b: _Builder, text: str) -> tuple[Indicator, ...]:
    if is_indicator_table(text):
        rows = parse_indicator_table(text)
        b.append(TABLE_HEADER)
        ids = []
        for ind in rows:
            line = render_row(ind)
            ids.append(b.passage(line, b.append(line), "table_row", ind.name))
        return tuple(with_passage_ids(rows, ids))
    # Any other table: the header line as text, then one passage per row, named by its first cell.
    lines = [line for line in text.split("\n") if line.strip()]
    for i, line in enumerate(lines):
        cells = [fix_inline(c) for c in line.split("\t")]
        row = "\t".join(c for c in cells if c)
        start = b.append(row)
        if i > 0 or len(lines) == 1:
            b.passage(row, start, "row", next((c for c in cells if c), ""))
    return ()


def _outline(meta: DocumentMeta, blocks: list[Block]) -> tuple[ParsedDocument, tuple[Indicator, ...]]:
    b = _Builder(meta, "\n\n")
    indicators: tuple[Indicator, ...] = ()
    in_box = False
    table_level = 0
    for block in blocks:
        if block.kind == "title":
            b.append(block.text)
        elif block.kind in _HEADING_KINDS:
            in_box = block.kind == "box"
            b.heading(block.level, block.text)
            table_level = block.level if block.kind == "table_title" else 0
        elif block.kind == "table":
            indicators += _table(b, block.text)
            if table_level:
                # Text after the table belongs to the section around it, not to the table title.
                b.pop_to(table_level)
                table_level = 0
        else:
            _paragraph(b, block.text, in_box)
    return b.document(), indicators


def _articles(meta: DocumentMeta, blocks: list[Block]) -> ParsedDocument:
    b = _Builder(meta, "\n")
    seen: dict[str, int] = {}
    for block in blocks:
        if block.kind == "title":
            b.append(block.text)
            continue
        if block.kind in _HEADING_KINDS:
            b.heading(block.level, block.text)
            continue
        if block.kind == "table":
            b.append(block.text)
            continue
        start = b.append(block.text)
        section = tuple(t for _, t in b.path) + ((block.label,) if block.label else ())
        if block.label:
            b.headings.append(Heading(3, block.label, start))
        key = f"a{chinese_number(block.label)}" if block.label else "n"
        # Repeated labels (annex tables, 条之一 articles) still get distinct ids.
        n = seen.get(key, 0)
        seen[key] = n + 1
        base = f"{meta.id}:{key}" + (f"x{n}" if n else "")
        groups = group_spans(block.text)
        kind = "article" if block.label else "paragraph"
        for i, (s, e) in enumerate(groups):
            pid = base if len(groups) == 1 else f"{base}-{i + 1}"
            b.add(pid, section or (meta.title,), block.text[s:e], start + s, kind)
    return b.document()


def parse_structure(
    meta: DocumentMeta, text: str, reflow: bool
) -> tuple[ParsedDocument, tuple[Indicator, ...]]:
    """Parses one extracted document; ``reflow`` when its line breaks come from a page layout."""
    blocks = split_blocks(text, reflow=reflow)
    if any(block.kind == "article" for block in blocks):
        return _articles(meta, blocks), ()
    return _outline(meta, blocks)
