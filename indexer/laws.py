"""Structure of a law or regulation: 章 / 节 / 条, one article being the unit of citation."""

from __future__ import annotations

import re

from .chunk import group_spans
from .records import DocumentMeta, Heading, ParsedDocument, Passage

ARTICLE_RE = re.compile(r"^(第[零〇一二三四五六七八九十百千]+条(?:之[一二三四五六七八九十]+)?)[\s\u3000]*")
_HEADING_RE = re.compile(r"^(#{2,4})\s+(.+?)\s*$")
_INFO_END = "<!-- INFO END -->"
_NUMERALS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> int:
    """第四十三条 → 43: the ordinal inside an article or chapter label."""
    total, digit = 0, 0
    for ch in text:
        if ch in _NUMERALS:
            digit = _NUMERALS[ch]
        elif ch in _UNITS:
            total += (digit or 1) * _UNITS[ch]
            digit = 0
    return total + digit


def strip_front_matter(raw: str) -> str:
    if raw.startswith("---\n"):
        end = raw.find("\n---", 4)
        if end != -1:
            return raw[end + 4 :].lstrip("\n")
    return raw


def _body(raw: str) -> str:
    text = strip_front_matter(raw)
    if _INFO_END in text:
        return text.split(_INFO_END, 1)[1]
    # Without the marker, drop only the "# title" line.
    return re.sub(r"^# .*\n", "", text, count=1)


def parse_law(meta: DocumentMeta, raw: str) -> ParsedDocument:
    parts: list[str] = []
    length = 0
    headings: list[Heading] = []
    passages: list[Passage] = []
    path: list[tuple[int, str]] = []
    article: list[str] = []
    article_label = ""
    seen: dict[str, int] = {}

    def append(text: str) -> int:
        nonlocal length
        if parts:
            parts.append("\n")
            length += 1
        parts.append(text)
        length += len(text)
        return length - len(text)

    def flush() -> None:
        nonlocal article_label
        if not article:
            return
        text = "\n".join(article)
        start = append(text)
        section = tuple(t for _, t in path) + ((article_label,) if article_label else ())
        key = f"a{chinese_number(article_label)}" if article_label else "n"
        # Repeated labels (annex tables, 条之一 articles) still get distinct ids.
        n = seen.get(key, 0)
        seen[key] = n + 1
        base = f"{meta.id}:{key}" + (f"x{n}" if n else "")
        groups = group_spans(text)
        for i, (s, e) in enumerate(groups):
            pid = base if len(groups) == 1 else f"{base}-{i + 1}"
            kind = "article" if article_label else "paragraph"
            passages.append(
                Passage(pid, meta.id, section or (meta.title,), text[s:e], start + s, start + e, kind)
            )
        article.clear()
        article_label = ""

    for line in _body(raw).split("\n"):
        line = line.strip()
        if not line:
            continue
        m = _HEADING_RE.match(line)
        if m:
            flush()
            level = len(m.group(1)) - 1
            title = re.sub(r"\s+", " ", m.group(2))
            start = append(title)
            path = [(lv, t) for lv, t in path if lv < level] + [(level, title)]
            headings.append(Heading(level, title, start))
            continue
        am = ARTICLE_RE.match(line)
        if am:
            flush()
            article_label = am.group(1)
            headings.append(Heading(3, article_label, length + (1 if parts else 0)))
        article.append(line)
    flush()
    return ParsedDocument(meta, "".join(parts), tuple(headings), tuple(passages))
