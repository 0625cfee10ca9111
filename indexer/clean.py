"""Turns extracted text into cleaned, classified blocks: headings, articles, paragraphs, tables.

Nothing here knows which document it reads. Headings are recognised by the numbering of
Chinese official documents (第X章 / 第X节 / 第X条, 一、/（一）/ 1. /（1）, 专栏, 附件) and by
Markdown ``#``; their levels follow from which of those styles the document uses, in the
standard order. Text extracted from a page layout (PDF, plain text saved from one) carries
damage that is repaired here: paragraphs broken at line and page ends (``土壤污`` /
``染状况调查``), spaces the extractor put around numbers and Latin words (``775 个``,
``到 2025 年``), TeX-style subscripts (``PM_{2.5}``) and a stray English ``and`` between
Chinese words. Authored formats (Markdown, DOCX) keep their paragraphs as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = "零〇一二三四五六七八九十百千"
ARTICLE_RE = re.compile(rf"^(第[{_CN_DIGITS}]+条(?:之[一二三四五六七八九十]+)?)[\s\u3000]*")
MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
BOX_RE = re.compile(r"^专栏\s*(\d+)\s*[：:]?\s*(\S.*)$")
ANNEX_RE = re.compile(r"^附件\s*[\d一二三四五六七八九十]*\s*[：:]?\s*\S{0,40}$")
# Numbered heading styles, from the top of the hierarchy down; a document's levels are the
# ranks of the styles it actually uses (a plan with 一、 and （一） gets levels 1 and 2).
_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("zhang", re.compile(rf"^(第[{_CN_DIGITS}\d]+章)[\s\u3000]*(\S.*)?$")),
    ("jie", re.compile(rf"^(第[{_CN_DIGITS}\d]+节)[\s\u3000]*(\S.*)?$")),
    ("cn", re.compile(r"^[一二三四五六七八九十]+、\S")),
    ("pcn", re.compile(r"^[（(][一二三四五六七八九十]+[）)]\S")),
    ("num", re.compile(r"^\d{1,2}[\.．](?!\d)\s*\S")),
    ("pnum", re.compile(r"^[（(]\d{1,2}[）)]\s*\S")),
)
# A numbered line is a heading only when it is short and unfinished; "一、各单位要……。" is a
# numbered paragraph.
_HEADING_MAX = 40
_TITLE_MAX = 60
# Layout text: a line that ends with one of these closes its paragraph; any other ending means
# the extractor cut the paragraph at a line or page end. A colon ends a salutation
# ("各县（市、区）生态环境分局：") or the lead-in of a list.
_CLOSERS = ("。", "；", "！", "？", "：")
# At least this many article lines make 第X条 the unit of the document (a law, a regulation);
# numbered lines inside articles are then enumerations, not headings.
_MIN_ARTICLES = 3

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef“”‘’《》、·—…"
_NARROW = rf"[{_CJK}{_CJK_PUNCT}]"
# A space next to a Chinese character or full-width punctuation is an artefact; so is a
# space inside a number ("1 1" in a table's number column).
_SPACE_NEAR_CJK = re.compile(rf"(?<={_NARROW})[ \u3000]+|[ \u3000]+(?={_NARROW})")
_SPACE_IN_NUMBER = re.compile(r"(?<=\d) +(?=\d)")
_ENGLISH_AND = re.compile(rf"(?<={_NARROW}) ?\band\b ?(?={_NARROW})")
_TEX_SUB = re.compile(r"_\{([^}]*)\}|_([A-Za-z0-9])")


@dataclass(frozen=True)
class Block:
    """A logical unit of the cleaned document."""

    # title | chapter | section | heading (level 3+) | annex | box | table_title | table |
    # article | paragraph
    kind: str
    text: str
    level: int = 0  # heading levels; 0 for content blocks
    label: str = ""  # an article's 第X条


def fix_inline(text: str) -> str:
    """Removes stray spaces and TeX subscripts inside one logical line of prose."""
    text = _TEX_SUB.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ENGLISH_AND.sub("和", text)
    text = _SPACE_NEAR_CJK.sub("", text)
    text = _SPACE_IN_NUMBER.sub("", text)
    return text.strip()


def _style(line: str) -> str | None:
    for name, pattern in _STYLES:
        if pattern.match(line):
            if name in ("zhang", "jie"):
                return name
            if len(line) <= _HEADING_MAX and not line.endswith((*_CLOSERS, "：", "，")):
                return name
            return None
    return None


def _is_table_line(line: str) -> bool:
    return "\t" in line.strip(" \u3000") and line.strip() != ""


@dataclass(frozen=True)
class _Layout:
    articles: bool  # 第X条 is the unit of the document
    md_levels: dict[int, int]  # Markdown depth → level
    style_levels: dict[str, int]  # numbered style → level

    @property
    def deepest(self) -> int:
        return max([0, *self.md_levels.values(), *self.style_levels.values()])


def _layout(lines: list[str]) -> _Layout:
    articles = sum(1 for line in lines if ARTICLE_RE.match(line)) >= _MIN_ARTICLES
    depths = sorted({len(m.group(1)) for line in lines if (m := MD_HEADING_RE.match(line))})
    md_levels = {d: d - depths[0] + 1 for d in depths}
    used = {s for line in lines if (s := _style(line))}
    if articles:
        used &= {"zhang", "jie"}
    ranked = [name for name, _ in _STYLES if name in used]
    base = len(depths)
    return _Layout(articles, md_levels, {name: base + i + 1 for i, name in enumerate(ranked)})


def _heading_kind(level: int) -> str:
    return {1: "chapter", 2: "section"}.get(level, "heading")


def _heading_text(line: str, style: str, reflow: bool) -> str:
    if style in ("zhang", "jie"):
        m = next(p for n, p in _STYLES if n == style).match(line)
        assert m is not None
        rest = m.group(2) or ""
        rest = fix_inline(rest) if reflow else re.sub(r"\s+", " ", rest)
        return f"{m.group(1)} {rest}".strip()
    return fix_inline(line) if reflow else re.sub(r"\s+", " ", line)


def _box_title(line: str) -> str:
    m = BOX_RE.match(line)
    assert m is not None
    return f"专栏 {m.group(1)} {fix_inline(m.group(2))}"


class _Splitter:
    def __init__(self, layout: _Layout, reflow: bool) -> None:
        self.layout = layout
        self.reflow = reflow
        self.blocks: list[Block] = []
        self.pending: list[str] = []  # pieces of a paragraph still waiting for its closing line
        self.article: list[str] = []  # finished paragraphs of the current article (or unlabelled run)
        self.label = ""
        self.table: list[str] = []

    def _close_paragraph(self) -> None:
        if not self.pending:
            return
        text = fix_inline("".join(self.pending)) if self.reflow else self.pending[0]
        self.pending.clear()
        if self.reflow and self.label and not self.article and text.startswith(self.label):
            # "第二条 违反……": the space after the label, as in the statute texts, survives repair.
            text = f"{self.label} {text[len(self.label) :].lstrip()}"
        if self.layout.articles:
            self.article.append(text)
        else:
            self.blocks.append(Block("paragraph", text))

    def flush(self) -> None:
        self._close_paragraph()
        if self.article:
            kind = "article" if self.label else "paragraph"
            self.blocks.append(Block(kind, "\n".join(self.article), label=self.label))
            self.article.clear()
        self.label = ""
        if self.table:
            self.blocks.append(Block("table", "\n".join(self.table).strip("\n")))
            self.table.clear()

    def add_line(self, line: str) -> None:
        self.pending.append(line)
        if not self.reflow or line.endswith(_CLOSERS):
            self._close_paragraph()

    def heading(self, kind: str, text: str, level: int) -> None:
        self.flush()
        self.blocks.append(Block(kind, text, level))

    def start_table(self) -> None:
        # A short unfinished line just before a table is its title ("…主要指标", "表1 …").
        title = ""
        if len(self.pending) == 1 and len(self.pending[0]) <= _HEADING_MAX:
            title = self.pending.pop()
        self.flush()
        if title:
            self.blocks.append(Block("table_title", fix_inline(title), self.layout.deepest + 1))


def split_blocks(raw: str, reflow: bool = True) -> list[Block]:
    """Cleaned blocks in reading order; ``reflow`` rejoins paragraphs broken by a page layout."""
    lines = raw.replace("\r\n", "\n").split("\n")
    stripped_lines = [line.strip() for line in lines]
    layout = _layout(stripped_lines)
    sp = _Splitter(layout, reflow)
    for line, stripped in zip(lines, stripped_lines, strict=True):
        if sp.table:
            # Blank lines inside a table are page-break damage; they stay for the table parser.
            if not stripped or _is_table_line(line):
                sp.table.append(line.rstrip("\n"))
                continue
            sp.flush()
        if not stripped:
            continue
        md = MD_HEADING_RE.match(stripped)
        if md:
            level = layout.md_levels[len(md.group(1))]
            sp.heading(_heading_kind(level), re.sub(r"\s+", " ", md.group(2)), level)
            continue
        style = _style(stripped)
        if style is not None and style in layout.style_levels:
            level = layout.style_levels[style]
            sp.heading(_heading_kind(level), _heading_text(stripped, style, reflow), level)
            continue
        if BOX_RE.match(stripped) and not layout.articles:
            sp.heading("box", _box_title(stripped), min(2, layout.deepest + 1))
            continue
        if ANNEX_RE.match(stripped) and not layout.articles:
            sp.heading("annex", fix_inline(stripped) if reflow else stripped, 1)
            continue
        if layout.articles:
            # In layout text a line inside an unfinished sentence continues it, even when it
            # begins like an article ("第三十条规定的罚款" wrapped onto a new line).
            am = None if reflow and sp.pending else ARTICLE_RE.match(stripped)
            if am:
                sp.flush()
                sp.label = am.group(1)
        elif _is_table_line(line):
            sp.start_table()
            sp.table.append(line.rstrip("\n"))
            continue
        first = not sp.blocks and not sp.pending and not sp.article and not sp.label
        # A title is short and unfinished; "各县（市、区）生态环境分局：" is a salutation.
        if first and len(stripped) <= _TITLE_MAX and not stripped.endswith((*_CLOSERS, "：", "，")):
            sp.blocks.append(Block("title", fix_inline(stripped) if reflow else stripped))
            continue
        sp.add_line(stripped)
    sp.flush()
    return sp.blocks


# Page numbers as PDF exporters print them: "3", "- 3 -", "— 3 —", "第 3 页", "3 / 21", "第3页 共21页".
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*(?:/|共)\s*\d{1,4}\s*页?)?[-—–\s]*$")
_FURNITURE_EDGE = 2  # lines at the top and at the bottom of a page that may be running heads


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", line))


def strip_page_furniture(pages: list[str]) -> list[str]:
    """Page texts without page numbers and without running headers or footers.

    A line counts as a running header or footer when it sits among the first or last lines of
    at least half the pages (three at least) — the same text, page numbers aside.
    """
    split = [[line for line in page.split("\n") if line.strip()] for page in pages]
    counts: dict[str, int] = {}
    for lines in split:
        edge = lines[:_FURNITURE_EDGE] + lines[-_FURNITURE_EDGE:]
        for key in {_furniture_key(line) for line in edge}:
            counts[key] = counts.get(key, 0) + 1
    threshold = max(3, (len(pages) + 1) // 2)
    repeated = {k for k, n in counts.items() if n >= threshold and len(pages) >= 3}
    out = []
    for lines in split:
        kept = []
        for i, line in enumerate(lines):
            at_edge = i < _FURNITURE_EDGE or i >= len(lines) - _FURNITURE_EDGE
            if at_edge and (_PAGE_NUMBER.match(line) or _furniture_key(line) in repeated):
                continue
            kept.append(line)
        out.append("\n".join(kept))
    return out
