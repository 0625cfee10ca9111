"""Query decomposition: which clauses of a question set the scene and which one asks.

"我家旁边新开了个洗车店，污水直接排到路边沟里，这种情况归谁管？" embeds as a story about a car
wash; the asking clause embedded on its own pulls towards passages about duties and
supervision. The cues are data (indexer/data/clauses.toml); the functions here are pure.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from .tokenize import normalise

# An asking clause with fewer characters than this once its question words are gone is bare form.
MIN_ASK_CONTENT = 4


@dataclass(frozen=True)
class ClauseCues:
    ask_words: tuple[str, ...]
    ask_marks: tuple[str, ...]
    not_asking: tuple[str, ...]
    scene_openers: tuple[str, ...]
    split_marks: tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    text: str
    asks: bool
    scene: bool


@dataclass(frozen=True)
class Decomposed:
    question: str
    clauses: tuple[Clause, ...]
    ask: str  # the asking clause(s), or "" when that would be the whole question again
    core: str  # the question without its scene-only clauses, or "" when nothing was dropped


def _strs(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"clauses.toml: [{where}].{key} must be a non-empty list of strings")
    return tuple(normalise(v) for v in value)


def parse_cues(raw: dict[str, Any]) -> ClauseCues:
    return ClauseCues(
        ask_words=_strs(raw.get("ask", {}), "words", "ask"),
        ask_marks=_strs(raw.get("ask", {}), "marks", "ask"),
        not_asking=_strs(raw.get("ask", {}), "not_asking", "ask"),
        scene_openers=_strs(raw.get("scene", {}), "openers", "scene"),
        split_marks=_strs(raw.get("split", {}), "marks", "split"),
    )


@lru_cache(maxsize=1)
def load_cues() -> ClauseCues:
    text = resources.files("indexer").joinpath("data", "clauses.toml").read_text(encoding="utf-8")
    return parse_cues(tomllib.loads(text))


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text)


def _content_chars(clause: str, cues: ClauseCues) -> int:
    for w in sorted(cues.ask_words, key=len, reverse=True):
        clause = clause.replace(w, "")
    return len(_squash(clause))


def split_clauses(question: str, cues: ClauseCues) -> list[tuple[str, str]]:
    """(clause, the mark that ended it) pairs, on normalised text."""
    text = normalise(question)
    marks = "".join(re.escape(m) for m in cues.split_marks)
    parts = re.split(f"([{marks}])", text)
    out = []
    for i in range(0, len(parts), 2):
        clause = parts[i].strip()
        end = parts[i + 1] if i + 1 < len(parts) else ""
        if clause:
            out.append((clause, end))
    return out


def decompose(question: str, cues: ClauseCues | None = None) -> Decomposed:
    cues = cues or load_cues()
    clauses = []
    for text, end in split_clauses(question, cues):
        masked = text
        for phrase in cues.not_asking:
            masked = masked.replace(phrase, "\x00")
        asks = end in cues.ask_marks or any(w in masked for w in cues.ask_words)
        scene = not asks and text.startswith(cues.scene_openers)
        clauses.append(Clause(text, asks, scene))
    whole = _squash(normalise(question))
    asking = []
    for i, c in enumerate(clauses):
        if not c.asks:
            continue
        # A bare form clause ("有什么要求") says nothing alone: it takes in the clause before it.
        if i > 0 and _content_chars(c.text, cues) < MIN_ASK_CONTENT and not clauses[i - 1].asks:
            asking.append(clauses[i - 1].text)
        asking.append(c.text)
    ask = "，".join(asking)
    core = "，".join(c.text for c in clauses if not c.scene)
    return Decomposed(
        question=question,
        clauses=tuple(clauses),
        ask=ask if ask and _squash(ask) != whole else "",
        core=core if core and _squash(core) != whole else "",
    )
