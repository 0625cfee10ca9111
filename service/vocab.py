"""Domain vocabulary: counties and zones of the plan, sectors, and everyday-to-document wording.

The table lives in service/data/vocab.toml (reviewed by hand); everything here is a pure function
over it. Matching works on normalised text (NFKC, lower-cased) so full-width input still matches.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

from indexer.errors import NotFound
from indexer.tokenize import normalise

T = TypeVar("T")

# A loose alias such as 开发区 counts only when it is not the tail of another name
# (北京经济技术开发区, 高新开发区): the character before it must be a function word like these
# (“请问开发区…”, “我们开发区…”) or not a CJK ideograph.
_LOOSE_OK_BEFORE = frozenset("在是的和与及、到去从们这那个于对给跟向问请咱您我你他她本里边近说想要有没家办")
_MASK = "\x00"


@dataclass(frozen=True)
class Zone:
    name: str
    aliases: tuple[str, ...]
    counties: tuple[str, ...]
    role: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class County:
    name: str
    aliases: tuple[str, ...]
    zone: str
    loose_aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Names that identify the county anywhere, including in plan passages."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Sector:
    name: str
    synonyms: tuple[str, ...]
    plan_terms: tuple[str, ...]
    target_terms: tuple[str, ...]
    related: tuple[str, ...]  # indicator words that concern the sector (挥发性有机物 for 印刷)
    specific_laws: tuple[str, ...]
    laws: tuple[str, ...]  # specific laws, then the general rules for polluters when it is an emitter
    emitter: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.synonyms)

    @property
    def law_doc_ids(self) -> tuple[str, ...]:
        return self.laws


@dataclass(frozen=True)
class Expansion:
    say: tuple[str, ...]
    means: tuple[str, ...]


@dataclass(frozen=True)
class Vocab:
    counties: tuple[County, ...]
    zones: tuple[Zone, ...]
    sectors: tuple[Sector, ...]
    everyday: tuple[Expansion, ...]
    general_laws: tuple[str, ...]
    ignore: tuple[str, ...] = ()

    def __hash__(self) -> int:
        # Computed once: the vocabulary keys several per-question caches, and hashing all its
        # nested records on every lookup cost more than the lookups saved.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(tuple(getattr(self, f.name) for f in fields(self)))
            object.__setattr__(self, "_hash", cached)
        return int(cached)

    def county(self, name: str) -> County:
        for c in self.counties:
            if c.name == name:
                return c
        raise KeyError(name)

    def zone(self, name: str) -> Zone:
        for z in self.zones:
            if z.name == name:
                return z
        raise KeyError(name)

    def sector(self, name: str) -> Sector:
        for s in self.sectors:
            if s.name == name:
                return s
        raise KeyError(name)

    def zone_of(self, county: County) -> Zone:
        return self.zone(county.zone)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _strs(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        name = entry.get("name", entry)
        raise ValueError(f"vocab: {key!r} of {name!r} must be a list of non-empty strings")
    return tuple(value)


def parse_vocab(raw: dict[str, Any]) -> Vocab:
    """Builds and checks the vocabulary from the decoded TOML table."""
    general = _strs(raw.get("general", {}), "laws")
    counties = tuple(
        County(e["name"], _strs(e, "aliases"), e["zone"], _strs(e, "loose_aliases")) for e in raw["counties"]
    )
    zones = tuple(
        Zone(
            e["name"],
            _strs(e, "aliases"),
            tuple(c.name for c in counties if c.zone == e["name"]),
            e.get("role", ""),
        )
        for e in raw["zones"]
    )
    sectors = []
    for e in raw["sectors"]:
        own = _strs(e, "laws")
        emitter = bool(e.get("emitter", False))
        laws = own + tuple(law for law in general if emitter and law not in own)
        sectors.append(
            Sector(
                e["name"],
                _strs(e, "synonyms"),
                _strs(e, "plan_terms"),
                _strs(e, "target_terms"),
                _strs(e, "related"),
                own,
                laws,
                emitter,
            )
        )
    everyday = tuple(Expansion(_strs(e, "say"), _strs(e, "means")) for e in raw.get("everyday", []))
    vocab = Vocab(
        counties, zones, tuple(sectors), everyday, general, _strs(raw.get("matching", {}), "ignore")
    )
    _check(vocab)
    return vocab


def _check(vocab: Vocab) -> None:
    zone_names = {z.name for z in vocab.zones}
    for c in vocab.counties:
        if c.zone not in zone_names:
            raise ValueError(f"vocab: county {c.name} names unknown zone {c.zone!r}")
    for label, groups in (
        ("county", [(*c.names, *c.loose_aliases) for c in vocab.counties]),
        ("zone", [z.names for z in vocab.zones]),
        ("sector", [s.names for s in vocab.sectors]),
    ):
        seen: dict[str, int] = {}
        for i, names in enumerate(groups):
            for n in names:
                if seen.setdefault(normalise(n), i) != i:
                    raise ValueError(f"vocab: {label} name {n!r} is used twice")


@lru_cache(maxsize=1)
def load_vocab() -> Vocab:
    text = resources.files("service").joinpath("data", "vocab.toml").read_text(encoding="utf-8")
    return parse_vocab(tomllib.loads(text))


# ---------------------------------------------------------------------------------------------
# Finding mentions
# ---------------------------------------------------------------------------------------------


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _mask(text: str, start: int, length: int) -> str:
    return text[:start] + _MASK * length + text[start + length :]


def _prepared(terms: Iterable[tuple[str, T, bool]]) -> tuple[tuple[str, T, bool], ...]:
    """Terms normalised and longest first, so a long name hides its parts (see ``_mentions``)."""
    return tuple(sorted(((normalise(t), item, loose) for t, item, loose in terms), key=lambda x: -len(x[0])))


def _mentions(text: str, terms: Sequence[tuple[str, T, bool]], ignore: Sequence[str]) -> list[tuple[int, T]]:
    """(position, item) for every term found; ``terms`` come from ``_prepared``.

    ``terms`` holds (term, item, loose); loose terms must not be the tail of another name;
    ``ignore`` holds normalised words (``_ignored``) masked before any term is looked for.
    """
    t = normalise(text)
    for w in ignore:
        while (i := t.find(w)) >= 0:
            t = _mask(t, i, len(w))
    found: list[tuple[int, T]] = []
    for term, item, loose in terms:
        start = 0
        while (i := t.find(term, start)) >= 0:
            start = i + len(term)
            before = t[i - 1] if i else ""
            if loose and before and _is_cjk(before) and before not in _LOOSE_OK_BEFORE:
                continue
            found.append((i, item))
            t = _mask(t, i, len(term))
    found.sort(key=lambda x: x[0])
    return found


# The name lists are prepared once per vocabulary: texts are searched for them dozens of times
# per question (every candidate sentence of a county or sector answer).
@lru_cache(maxsize=8)
def _county_terms(v: Vocab, loose: bool) -> tuple[tuple[str, County, bool], ...]:
    terms = [(n, c, False) for c in v.counties for n in c.names]
    if loose:
        terms += [(n, c, True) for c in v.counties for n in c.loose_aliases]
    return _prepared(terms)


@lru_cache(maxsize=8)
def _ignored(v: Vocab) -> tuple[str, ...]:
    return tuple(normalise(w) for w in v.ignore)


@lru_cache(maxsize=8)
def _place_terms(v: Vocab) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for t, _, _ in (*_county_terms(v, False), *_zone_terms(v))))


def may_name_place(text: str, vocab: Vocab | None = None) -> bool:
    """False when the text cannot name a county or zone (none of their names occurs in it):
    a cheap test before ``find_counties(loose=False)`` / ``find_zones``, which only ever find
    fewer names than occur, so skipping a text that fails it changes no result."""
    v = vocab or load_vocab()
    t = normalise(text)
    return any(term in t for term in _place_terms(v))


@lru_cache(maxsize=8)
def _zone_terms(v: Vocab) -> tuple[tuple[str, Zone, bool], ...]:
    return _prepared((n, z, False) for z in v.zones for n in z.names)


@lru_cache(maxsize=8)
def _sector_terms(v: Vocab) -> tuple[tuple[str, Sector, bool], ...]:
    return _prepared((n, s, False) for s in v.sectors for n in s.names)


def _unique(items: Iterable[T]) -> list[T]:
    out: list[T] = []
    for it in items:
        if it not in out:
            out.append(it)
    return out


def find_counties(text: str, vocab: Vocab | None = None, loose: bool = True) -> list[County]:
    """Every county the text names, in order of first mention."""
    v = vocab or load_vocab()
    return _unique(c for _, c in _mentions(text, _county_terms(v, loose), _ignored(v)))


def find_zones(text: str, vocab: Vocab | None = None) -> list[Zone]:
    v = vocab or load_vocab()
    return _unique(z for _, z in _mentions(text, _zone_terms(v), _ignored(v)))


def find_sectors(text: str, vocab: Vocab | None = None) -> list[Sector]:
    v = vocab or load_vocab()
    return _unique(s for _, s in _mentions(text, _sector_terms(v), _ignored(v)))


def resolve_county(text: str, vocab: Vocab | None = None) -> County | None:
    """The first county (or alias) named in a question; 开发区 alone counts only as a stand-alone word."""
    found = find_counties(text, vocab)
    return found[0] if found else None


def resolve_zone(text: str, vocab: Vocab | None = None) -> Zone | None:
    """The zone named in the text (by name or alias such as 北三县); counties do not imply a zone here."""
    found = find_zones(text, vocab)
    return found[0] if found else None


def resolve_sector(text: str, vocab: Vocab | None = None) -> Sector | None:
    """The first sector the text names, by the words owners use (养猪场 → 畜禽养殖)."""
    found = find_sectors(text, vocab)
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Strict look-ups for API parameters
# ---------------------------------------------------------------------------------------------


def _close(name: str, choices: dict[str, str], canonical: Sequence[str]) -> list[str]:
    """Canonical names close to ``name`` (difflib over names and aliases), else all of them."""
    hits = difflib.get_close_matches(normalise(name), list(choices), n=6, cutoff=0.5)
    close = _unique(choices[h] for h in hits)
    return close or list(canonical)


def lookup_county(name: str, vocab: Vocab | None = None) -> County:
    v = vocab or load_vocab()
    key = normalise(name.strip())
    choices = {normalise(n): c.name for c in v.counties for n in (*c.names, *c.loose_aliases)}
    if key in choices:
        return v.county(choices[key])
    allowed = _close(name, choices, [c.name for c in v.counties])
    raise NotFound(f"unknown county {name!r}; the plan covers 11 counties, cities and districts", allowed)


def lookup_zone(name: str, vocab: Vocab | None = None) -> Zone:
    v = vocab or load_vocab()
    key = normalise(name.strip())
    choices = {normalise(n): z.name for z in v.zones for n in z.names}
    if key in choices:
        return v.zone(choices[key])
    allowed = _close(name, choices, [z.name for z in v.zones])
    raise NotFound(f"unknown zone {name!r}; the plan has three strategic zones", allowed)


def lookup_sector(name: str, vocab: Vocab | None = None) -> Sector:
    """Exact sector name or synonym; failing that, a sector named inside the text (我们是印刷厂)."""
    v = vocab or load_vocab()
    key = normalise(name.strip())
    choices = {normalise(n): s.name for s in v.sectors for n in s.names}
    if key in choices:
        return v.sector(choices[key])
    found = resolve_sector(name, v) if key else None
    if found is not None:
        return found
    allowed = _close(name, choices, [s.name for s in v.sectors])
    raise NotFound(f"unknown sector {name!r}", allowed)


# ---------------------------------------------------------------------------------------------
# Query expansion
# ---------------------------------------------------------------------------------------------


def expand_query(question: str, vocab: Vocab | None = None) -> list[str]:
    """Document terms to add to a question: the plan's and the laws' words for what was asked.

    Sources: the everyday table, the vocabulary of a sector the question names, the full name and
    zone of a county it names, and the counties of a zone it names. Terms already in the question
    are left out.
    """
    v = vocab or load_vocab()
    q = normalise(question)
    terms: list[str] = []
    for entry in v.everyday:
        if any(normalise(s) in q for s in entry.say):
            terms.extend(entry.means)
    sector = resolve_sector(question, v)
    if sector is not None:
        terms.extend(sector.plan_terms)
    county = resolve_county(question, v)
    if county is not None:
        terms.extend((county.name, county.zone))
    zone = resolve_zone(question, v)
    if zone is not None:
        terms.extend((zone.name, *zone.counties))
    return [t for t in _unique(terms) if normalise(t) not in q]
