"""Repairs the extraction artefacts of the plan's plain text, reproducibly and in code.

The published plan was extracted from a PDF. Its text carries four kinds of damage:
paragraphs broken across blank lines at page breaks (``土壤污`` / ``染状况调查``), spaces
the extractor put around numbers and Latin words (``775 个``, ``到 2025 年``), TeX-style
subscripts (``PM_{2.5}``) and a stray English ``and`` between Chinese words. The
主要指标 table is handled separately (see ``indexer.table``); this module only marks it
as a block so its lines are not glued to prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHAPTER_RE = re.compile(r"^[一二三四五六七八九十]+、\S")
SECTION_RE = re.compile(r"^（[一二三四五六七八九十]+）\S")
BOX_RE = re.compile(r"^专栏\s*(\d+)\s*(\S.*)$")
TABLE_TITLE_RE = re.compile(r"主要指标$")

# A line that ends with one of these closes its paragraph; any other ending means the
# extractor cut the paragraph at a page break.
_CLOSERS = ("。", "；", "！", "？", "”。")

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef“”‘’《》、·—…"
_NARROW = rf"[{_CJK}{_CJK_PUNCT}]"
# A space next to a Chinese character or full-width punctuation is an artefact; so is a
# space inside a number ("1 1" in the table's number column).
_SPACE_NEAR_CJK = re.compile(rf"(?<={_NARROW})[ \u3000]+|[ \u3000]+(?={_NARROW})")
_SPACE_IN_NUMBER = re.compile(r"(?<=\d) +(?=\d)")
_ENGLISH_AND = re.compile(rf"(?<={_NARROW}) ?\band\b ?(?={_NARROW})")
_TEX_SUB = re.compile(r"_\{([^}]*)\}|_([A-Za-z0-9])")


@dataclass(frozen=True)
class Block:
    """A logical line of the cleaned document: a heading, a paragraph or the table."""

    kind: str  # title | chapter | section | box | table_title | table | paragraph
    text: str


def fix_inline(text: str) -> str:
    """Removes stray spaces and TeX subscripts inside one logical line of prose."""
    text = _TEX_SUB.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ENGLISH_AND.sub("和", text)
    text = _SPACE_NEAR_CJK.sub("", text)
    text = _SPACE_IN_NUMBER.sub("", text)
    return text.strip()


def _heading_kind(line: str) -> str | None:
    if CHAPTER_RE.match(line):
        return "chapter"
    if SECTION_RE.match(line):
        return "section"
    if BOX_RE.match(line):
        return "box"
    return None


def _box_title(line: str) -> str:
    m = BOX_RE.match(line)
    assert m is not None
    return f"专栏 {m.group(1)} {fix_inline(m.group(2))}"


def split_blocks(raw: str) -> list[Block]:
    """Turns the raw plan text into cleaned blocks, rejoining paragraphs cut at page breaks."""
    lines = raw.replace("\r\n", "\n").split("\n")
    blocks: list[Block] = []
    pending: list[str] = []  # pieces of a paragraph still waiting for its closing line
    table_lines: list[str] = []
    in_table = False

    def flush() -> None:
        if pending:
            blocks.append(Block("paragraph", fix_inline("".join(pending))))
            pending.clear()

    for line in lines:
        stripped = line.strip()
        if in_table:
            # The table runs until the next chapter heading; blank lines inside it are
            # page-break damage, so they are kept for the table parser to reason about.
            if CHAPTER_RE.match(stripped):
                blocks.append(Block("table", "\n".join(table_lines).strip("\n")))
                table_lines.clear()
                in_table = False
            else:
                table_lines.append(line.rstrip("\n"))
                continue
        if not stripped:
            continue
        kind = _heading_kind(stripped)
        if kind is not None:
            flush()
            text = _box_title(stripped) if kind == "box" else fix_inline(stripped)
            blocks.append(Block(kind, text))
            continue
        if not blocks and not pending:
            blocks.append(Block("title", fix_inline(stripped)))
            continue
        if TABLE_TITLE_RE.search(stripped) and len(stripped) < 40:
            flush()
            blocks.append(Block("table_title", fix_inline(stripped)))
            in_table = True
            continue
        pending.append(stripped)
        if stripped.endswith(_CLOSERS):
            flush()
    flush()
    if table_lines:
        blocks.append(Block("table", "\n".join(table_lines).strip("\n")))
    return blocks
