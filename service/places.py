"""Places outside the plan's city named in a question (service/data/places.toml)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

from indexer.tokenize import normalise

SUFFIXES = ("特别行政区", "自治区", "省", "市", "县", "区")
DISTRICT_SUFFIXES = ("县", "区")


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("service").joinpath("data/places.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _joined() -> dict[str, list[str]]:
    """Short forms that join several places (京津冀), each with the places it names."""
    return dict(_table().get("joined", {}))


def names_home(question: str) -> bool:
    """Whether the question names the plan's own city."""
    return any(name in question for name in _table().get("home", []))


@lru_cache(maxsize=1)
def place_names() -> tuple[str, ...]:
    raw = _table()
    names = [*raw.get("provinces", []), *raw.get("cities", [])]
    # Longest first, so that 石家庄 is found before a shorter name inside it could be.
    return tuple(sorted(dict.fromkeys(names), key=len, reverse=True))


def find_places(question: str, words: frozenset[str]) -> tuple[str, ...]:
    """Places named in the question, in the order named.

    A name with its suffix (保定市) always counts. A bare name counts only when it stands as a word
    of its own in the question (``words``: its plain segmentation), so neither 确保定期 nor 大理石
    names a place.
    """
    q = normalise(question)
    found: list[tuple[int, str]] = []
    taken = [False] * len(q)
    for name in place_names():
        start = q.find(name)
        while start >= 0:
            end = start + len(name)
            if not any(taken[start:end]):
                suffix = next((s for s in SUFFIXES if q.startswith(s, end)), "")
                alone = name in words
                if suffix or alone:
                    # A district or county is named with its suffix (大兴区): the corpus may use
                    # the bare name only inside another one (大兴国际机场), which covers an airport,
                    # not the district.
                    found.append((start, name + suffix if suffix in DISTRICT_SUFFIXES else name))
                    for i in range(start, end):
                        taken[i] = True
            start = q.find(name, end)
    return tuple(name for _, name in sorted(found))


def covered_places(texts: Iterable[str]) -> frozenset[str]:
    """The listed places that the given texts (the corpus) name at least once."""
    joined = "\n".join(normalise(t) for t in texts)
    names = [n + s for n in place_names() for s in ("", *DISTRICT_SUFFIXES)]
    named = {name for name in names if name in joined}
    for short, places in _joined().items():
        if short in joined:
            named.update(places)
    return frozenset(named)
