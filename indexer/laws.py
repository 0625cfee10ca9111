"""Chinese ordinals of document numbering: 第四十三条 → 43, for article ids and ordering."""

from __future__ import annotations

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
