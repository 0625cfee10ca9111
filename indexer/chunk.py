"""Splits long paragraphs into retrieval-sized passages at sentence boundaries."""

from __future__ import annotations

import re

# Passages stay well under the embedding model's 512-token window (about 1.2 tokens per
# Chinese character for XLM-R pieces), and short enough to quote.
MAX_CHARS = 320
_SENTENCE_END = re.compile(r"[^。！？；]*[。！？；]+[”’）]*|[^。！？；]+$")
_LEAD_MAX = 30


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) covering ``text`` without gaps."""
    spans = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(text) if m.end() > m.start()]
    return spans or [(0, len(text))]


def group_spans(text: str, max_chars: int = MAX_CHARS) -> list[tuple[int, int]]:
    """Greedy groups of whole sentences, each at most ``max_chars`` unless one sentence is longer."""
    groups: list[tuple[int, int]] = []
    start = end = 0
    for s, e in sentences(text):
        if end > start and e - start > max_chars:
            groups.append((start, end))
            start = s
        end = e
    if end > start:
        groups.append((start, end))
    return groups


def lead_sentence(text: str) -> str:
    """The short opening sentence that names a paragraph's topic (e.g. "加强移动污染源管控。")."""
    first = sentences(text)[0]
    lead = text[first[0] : first[1]]
    if lead.endswith("。") and len(lead) <= _LEAD_MAX and first[1] < len(text):
        return lead
    return ""
