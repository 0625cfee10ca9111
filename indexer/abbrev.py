"""Abbreviations and short names the corpus itself defines or uses, as weak query expansions.

Three sources, all read from the documents (never from questions):
- definitions: 温室气体重点排放单位（以下简称重点排放单位）;
- parenthetical Latin abbreviations: 挥发性有机物（VOCs）, 细颗粒物（PM2.5）;
- contractions: a two-word term whose first characters form a word the corpus also uses
  (能源消耗 → 能耗, 监督管理 → 监管).
A question holding one form is expanded with the other.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from .tokenize import normalise, segment

_DEFINED = re.compile(r"[（(](?:以下)?简称[“\"《]?([^”\"》）)]{2,12})[”\"》]?[）)]")
_LATIN = re.compile(r"([\u4e00-\u9fff]{2,})[（(]([A-Za-z][A-Za-z0-9.\-]*)[）)]")
_CJK_TAIL = re.compile(r"[\u4e00-\u9fff]+$")
# Article numbers (第十一条) are not terms.
_NUMERAL = re.compile(r"[第一二三四五六七八九十百零条]")
# A short form must be used at least this often to count as a word of the corpus.
MIN_USES = 2
MAX_FULL = 16
# A contraction used more than this many times as often as its full form is a word of its own.
COMMONER = 3

Pairs = tuple[tuple[str, str], ...]  # (short form, full form), normalised


def _subsequence_start(span: str, short: str) -> int | None:
    """Start of the shortest tail of ``span`` that holds the characters of ``short`` in order
    and begins with its first character: 在…的温室气体排放报告 → 年度排放报告 ← 年度温室气体排放报告."""
    for start in range(len(span) - len(short), -1, -1):
        if span[start] != short[0]:
            continue
        it = iter(span[start:])
        if all(ch in it for ch in short):
            return start
    return None


def defined(texts: Iterable[str]) -> list[tuple[str, str]]:
    """（以下简称X） definitions: X with the tail of the preceding clause that spells it out."""
    out = []
    for text in texts:
        for m in _DEFINED.finditer(text):
            short = m.group(1)
            before = _CJK_TAIL.search(text[: m.start()])
            if before is None:
                continue
            start = _subsequence_start(before.group(), short)
            if start is not None:
                full = before.group()[start:]
                if full != short and len(full) <= MAX_FULL:
                    out.append((short, full))
    return out


def latin(texts: Sequence[str]) -> list[tuple[str, str]]:
    """挥发性有机物（VOCs）: the abbreviation with a tail of the preceding run, cut at a word
    boundary: the longest tail the corpus uses more than once (业源挥发性有机物 → 挥发性有机物),
    else the shortest of three characters or more (推动三氟甲烷 → 三氟甲烷)."""
    joined = "\n".join(texts)
    out = []
    for text in texts:
        for m in _LATIN.finditer(text):
            run, short = m.group(1), m.group(2)
            cuts, pos = [], 0
            for w in segment(run):
                cuts.append(pos)
                pos += len(w)
            tails = [run[i:] for i in cuts if 3 <= len(run) - i <= MAX_FULL]
            if not tails:
                continue
            used = [t for t in tails if joined.count(t) >= MIN_USES]
            out.append((short, used[0] if used else tails[-1]))
    return out


def contractions(texts: Iterable[str]) -> list[tuple[str, str]]:
    """Four-character words whose first and third characters form a word the corpus uses too
    (危险废物 → 危废), unless that word is much commoner than the term: then it is a word of its
    own (产品生产 → 产生)."""
    words: Counter[str] = Counter()
    for text in texts:
        words.update(segment(text))
    out = []
    for full, n in words.items():
        if len(full) != 4 or n < MIN_USES or not _CJK_TAIL.fullmatch(full) or _NUMERAL.search(full):
            continue
        short = full[0] + full[2]
        if MIN_USES <= words[short] <= COMMONER * n:
            out.append((short, full))
    return out


def derive(texts: Sequence[str]) -> Pairs:
    """Every (short, full) pair the documents support, normalised, without duplicates."""
    found = [*defined(texts), *latin(texts), *contractions(texts)]
    pairs = {(normalise(s), normalise(f)) for s, f in found}
    return tuple(sorted(p for p in pairs if p[0] != p[1]))


def expansions(query: str, pairs: Pairs) -> list[str]:
    """The other form of every short or full form the query holds (and does not already hold)."""
    q = normalise(query)
    out: list[str] = []
    for short, full in pairs:
        if full in q:
            other = short
        elif short in q:
            other = full
        else:
            continue
        if other not in q and other not in out:
            out.append(other)
    return out
