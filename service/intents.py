"""The question-wording cues of service/data/intents.toml, compiled once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from indexer.errors import PlanqaError

CUE_NAMES = (
    "number",
    "deadline",
    "targets",
    "table",
    "zone",
    "plan",
    "plan_name",
    "period_name",
    "penalty",
    "here",
    "scene",
    "current_period",
    "past_period",
    "scope",
    "statute",
    "rules",
    "amount",
    "multipart",
    "ask",
    "listing",
    "problems",
    "deferral",  # read in the documents' text, not the question's
)


class IntentsError(PlanqaError):
    """The intents data file is malformed."""


@dataclass(frozen=True)
class Cue:
    name: str
    pattern: re.Pattern[str]
    examples: tuple[str, ...]
    counter: tuple[str, ...]

    def found(self, text: str) -> bool:
        return self.pattern.search(text) is not None


@dataclass(frozen=True)
class ValueKind:
    """A kind of value a question can ask for (金额, 时间 …) and how a sentence gives it."""

    what: str
    asks: re.Pattern[str]
    gives: re.Pattern[str]
    examples: tuple[str, ...]
    counter: tuple[str, ...]
    gives_examples: tuple[str, ...] = ()
    gives_counter: tuple[str, ...] = ()
    # Measure words in groups that stand for one another (头只, 座个): a count asked with one (多少
    # 辆) is given only in its group; one asked with the general 个 by any. ``gives_source`` holds
    # ``{measure}`` where the measure words go; ``gives`` is compiled with all of them.
    measures: tuple[str, ...] = ()
    gives_source: str = ""
    # Whether a row of the indicator table can give it: a row gives its indicator's figure, never
    # a reason, a rank, a time of day or how often.
    in_table: bool = True

    def for_question(self, text: str) -> ValueKind:
        """This kind with ``gives`` narrowed to the measure word the question asks with."""
        found = self.asks.search(text) if self.measures else None
        if found is None:
            return self
        asked = found.group(0)[-1]
        group = next((g for g in self.measures if asked in g), "")
        if not group or group == GENERAL_MEASURE:
            return self  # 多少个: any counted thing answers
        return replace(self, gives=_measured(self.gives_source, group))


GENERAL_MEASURE = "个"


@lru_cache(maxsize=64)
def _measured(source: str, measures: str) -> re.Pattern[str]:
    return re.compile(source.replace("{measure}", re.escape(measures)))


@dataclass(frozen=True)
class Intents:
    cues: dict[str, Cue]
    values: tuple[ValueKind, ...]

    def has(self, name: str, text: str) -> bool:
        return self.cues[name].found(text)

    def asked_value(self, text: str) -> ValueKind | None:
        kind = next((v for v in self.values if v.asks.search(text)), None)
        return kind.for_question(text) if kind is not None else None


def _strs(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise IntentsError(f"intents: {where}.{key} must be a list of non-empty strings")
    return tuple(value)


def _compile(source: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(source)
    except re.error as exc:
        raise IntentsError(f"intents: {where} is not a valid pattern ({exc})") from exc


def parse_intents(raw: dict[str, Any]) -> Intents:
    cues: dict[str, Cue] = {}
    table = raw.get("cue", {})
    for name in CUE_NAMES:
        entry = table.get(name)
        if not isinstance(entry, dict):
            raise IntentsError(f"intents: cue {name!r} is missing")
        where = f"cue.{name}"
        alternatives = [re.escape(w) for w in _strs(entry, "words", where)]
        alternatives += [f"(?:{p})" for p in _strs(entry, "patterns", where)]
        if not alternatives:
            raise IntentsError(f"intents: {where} has neither words nor patterns")
        cues[name] = Cue(
            name,
            _compile("|".join(alternatives), where),
            _strs(entry, "examples", where),
            _strs(entry, "counter", where),
        )
    unknown = sorted(set(table) - set(CUE_NAMES))
    if unknown:
        raise IntentsError(f"intents: unknown cue(s) {', '.join(unknown)}")
    values = []
    for i, entry in enumerate(raw.get("value", [])):
        where = f"value[{i}]"
        if not all(isinstance(entry.get(k), str) and entry.get(k) for k in ("what", "asks", "gives")):
            raise IntentsError(f"intents: {where} needs what, asks and gives")
        measures = _strs(entry, "measures", where)
        if measures and "{measure}" not in entry["gives"]:
            raise IntentsError(f"intents: {where}.gives must hold {{measure}} when measures are given")
        gives = entry["gives"].replace("{measure}", re.escape("".join(measures)))
        in_table = entry.get("in_table", True)
        if not isinstance(in_table, bool):
            raise IntentsError(f"intents: {where}.in_table must be true or false")
        values.append(
            ValueKind(
                entry["what"],
                _compile(entry["asks"], f"{where}.asks"),
                _compile(gives, f"{where}.gives"),
                _strs(entry, "examples", where),
                _strs(entry, "counter", where),
                _strs(entry, "gives_examples", where),
                _strs(entry, "gives_counter", where),
                measures,
                entry["gives"] if measures else "",
                in_table,
            )
        )
    return Intents(cues, tuple(values))


@lru_cache(maxsize=1)
def load_intents() -> Intents:
    text = resources.files("service").joinpath("data/intents.toml").read_text(encoding="utf-8")
    return parse_intents(tomllib.loads(text))
