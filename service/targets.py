"""Quantified targets of the plan, and which of them apply to a county, zone or sector.

Targets come from two places: the 19 rows of the 主要指标 table, and sentences of the plan body
that set a value or an end state with a deadline (“到2025年，…达到85%以上”, “2023年底前，完成…”).
Body targets are found by patterns over the parser's cleaned passages, never listed by hand.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from indexer.corpus import Corpus
from indexer.errors import InvalidRequest
from indexer.records import Indicator, ParsedDocument, Passage

from .vocab import (
    County,
    Sector,
    Vocab,
    Zone,
    find_counties,
    find_zones,
    load_vocab,
    lookup_county,
    lookup_sector,
    lookup_zone,
    may_name_place,
)

SCOPE_KINDS = ("city", "zone", "county", "sector")
ATTRIBUTES = ("约束性", "预期性")
CITY = "全市"


# The indicator table's baseline column is 2020 (a target's own year is its ``year``).
BASELINE_YEAR = "2020"


def has_value(text: str) -> bool:
    """Whether a table cell gives a value (the table writes "-" where it gives none)."""
    return bool(text) and text not in ("-", "—")


@dataclass(frozen=True)
class Target:
    id: str
    what: str
    value: str
    unit: str
    year: str
    baseline: str = ""
    attribute: str = ""
    scope: str = CITY  # 全市, a zone name, county names joined by 、, or sector names joined by 、
    scope_kind: str = "city"
    why: str = ""
    passage_id: str = ""
    section: str = ""
    quote: str = ""
    category: str = ""  # an indicator's category in the table (环境治理 …); "" for prose targets

    @property
    def scope_names(self) -> tuple[str, ...]:
        return tuple(self.scope.split("、"))


_SENTENCE = re.compile(r"[^。！？]+[。！？]?")
_CLAUSE = re.compile(r"[^，；]+")
# A deadline: 到2025年(末), 2025年前, 2022年底(前). “较2020年” is a baseline, not a deadline.
_YEAR = re.compile(
    r"(?<!较)(?:(?:到|至|在)(?P<y1>20\d\d)年(?:末|年底|底前|底|前)?|(?P<y2>20\d\d)年(?:年底|底前|底|前))"
)
# “在2023年和2025年年底，开展规划执行情况的中期评估和总结评估”: two deadlines, two tasks.
_DUAL = re.compile(
    r"(?P<y1>20\d\d)年和(?P<y2>20\d\d)年(?:年底|底)?，(?P<verb>开展|完成)(?P<obj>[^，。]*?)的"
    r"(?P<a>[^，。和的]{2,8})和(?P<b>[^，。和的]{2,8})。?$"
)
_NUMBER = re.compile(
    r"(?P<pre>不低于|不少于|不高于|不超过)?"
    r"(?P<num>\d+(?:\.\d+)?(?:[~～]\d+(?:\.\d+)?)?)"
    r"(?P<unit>%|个|万吨|千米|兆瓦|小时)"
    r"(?P<post>以上|以下|以内|左右)?"
)
# Verbs that turn a number into a commitment when no deadline is given.
_COMMIT = re.compile("达到|稳定在|不低于|不少于|建成|建立|建设|实现|确保|做到|下降|降低")
# Copulas between a subject and its value; dropped from ``what``.
_COPULA = ("稳定在", "保持在", "提高到", "提升至", "控制在", "达到", "做到", "达")
# End states that make a dated clause a target (alternatives sharing a start: longer first).
_END_STATE = re.compile(
    "完成省下达任务|达到省级考核要求|建成并运行|建成并投运|全部建成|基本建成|初步建成|全面实现|全覆盖"
    "|动态清零|全部消除|基本消除|全面达标|全部回收|全量利用|稳步提升|完成"
)
# “三河、大厂、香河城镇污水厂出水标准对标京B标准”: a standard to meet, dated or not.
_STANDARD = re.compile(r"对标(?P<std>[^，。；]{1,12}?标准)")
_LEAD_WORDS = ("力争", "确保", "基本实现", "全面实现", "实现", "争取", "全市域", "全市", "并")
_TRAIL_WORDS = ("实现", "达到", "并", "的")
_BOX_HEAD = re.compile(r"^[^，。：；]{2,24}：")
_CITY_WIDE = ("全市", "各县（市、区）", "全市域")


def _strip(what: str) -> str:
    what = what.strip(" ，、：。；")
    changed = True
    while changed:
        changed = False
        for w in _LEAD_WORDS:
            if what.startswith(w) and len(what) > len(w) + 1:
                what, changed = what[len(w) :], True
        for w in _TRAIL_WORDS:
            if what.endswith(w) and len(what) > len(w) + 1:
                what, changed = what[: -len(w)], True
    return what.strip(" ，、：。；")


def _year_of(m: re.Match[str]) -> str:
    return m.group("y1") or m.group("y2")


@dataclass(frozen=True)
class _Found:
    """A target found in a clause, before scope and ids are assigned."""

    what: str
    value: str
    unit: str
    year: str
    clause: str
    offset: int  # clause start within the passage text
    quote: str


def _numeric(body: str, year: str) -> list[tuple[str, str, str, str]]:
    """(what, value, unit, year) for each number with a unit in a clause that commits to it."""
    matches = list(_NUMBER.finditer(body))
    if not matches or not (year or _COMMIT.search(body)):
        return []
    # Two projects joined by 和 (“大城100兆瓦风电项目和…一期100兆瓦工程项目建设”) become two targets.
    parts = re.split(r"和", body) if len(matches) > 1 else [body]
    out = []
    for part in parts:
        for m in _NUMBER.finditer(part):
            before = part[: m.start()]
            for c in _COPULA:
                if before.endswith(c):
                    before = before[: -len(c)]
                    break
            what = _strip(before + part[m.end() :])
            value = (m.group("pre") or "") + m.group("num") + (m.group("post") or "")
            if what:
                out.append((what, value, m.group("unit"), year))
    return out


def _qualitative(body: str, year: str) -> list[tuple[str, str, str, str]]:
    std = _STANDARD.search(body)
    if std:
        return [(_strip(body[: std.start()]), std.group("std"), "", year)]
    if not year:
        return []
    end = _END_STATE.search(body)
    if end is None:
        return []
    what = _strip(body[: end.start()] + body[end.end() :])
    return [(what, end.group(), "", year)] if len(what) >= 2 else []


def _passage_targets(p: Passage) -> list[_Found]:
    text = p.text
    lead = _YEAR.match(re.sub(r"^力争", "", text))
    passage_year = _year_of(lead) if lead else ""
    found: list[_Found] = []
    for sm in _SENTENCE.finditer(text):
        s_off, sentence = sm.start(), sm.group()
        quote = sentence.strip()
        dual = _DUAL.search(sentence)
        if dual:
            for y, task in ((dual.group("y1"), dual.group("a")), (dual.group("y2"), dual.group("b"))):
                what = dual.group("obj") + task
                found.append(_Found(what, dual.group("verb"), "", y, sentence, s_off, quote))
            continue
        year = passage_year
        for cm in _CLAUSE.finditer(sentence):
            c_off, clause = cm.start(), cm.group()
            body = clause
            if s_off == 0 and c_off == 0:
                body = _BOX_HEAD.sub("", body)
            for m in _YEAR.finditer(body):
                year = _year_of(m)
            body = _YEAR.sub("", body)
            items = _numeric(body, year) or _qualitative(body, year)
            found.extend(_Found(w, v, u, y, clause, s_off + c_off, quote) for w, v, u, y in items)
    return found


def _plan(corpus: Corpus) -> ParsedDocument:
    for d in corpus.documents:
        if d.meta.kind == "plan":
            return d
    raise InvalidRequest("the corpus has no plan document")


def zone_spans(plan: ParsedDocument, vocab: Vocab) -> list[tuple[int, int, Zone]]:
    """Where the plan describes each zone: from its name to the next zone's name or the paragraph end."""
    starts = sorted((i, z) for z in vocab.zones if (i := plan.text.find(z.name)) >= 0)
    spans = []
    for k, (start, zone) in enumerate(starts):
        para_end = plan.text.find("\n\n", start)
        end = para_end if para_end >= 0 else len(plan.text)
        if k + 1 < len(starts):
            end = min(end, starts[k + 1][0])
        spans.append((start, end, zone))
    return spans


def _scope(f: _Found, at: int, spans: list[tuple[int, int, Zone]], vocab: Vocab) -> tuple[str, str]:
    counties = find_counties(f.clause, vocab, loose=False)
    if counties:
        return "county", "、".join(c.name for c in counties)
    zones = find_zones(f.clause, vocab) or [z for s, e, z in spans if s <= at < e]
    if zones:
        return "zone", zones[0].name
    if any(w in f.clause for w in _CITY_WIDE):
        return "city", CITY
    sectors = [s.name for s in vocab.sectors if any(t in f.clause for t in s.target_terms)]
    if sectors:
        return "sector", "、".join(sectors)
    return "city", CITY


def _indicator_targets(corpus: Corpus, by_id: dict[str, Passage]) -> list[Target]:
    """One target per table row; indicator 8 has four rows, numbered ind-08a … ind-08d."""
    counts = Counter(ind.number for ind in corpus.indicators)
    seen: Counter[int] = Counter()
    out = []
    for ind in corpus.indicators:
        seen[ind.number] += 1
        suffix = chr(ord("a") + seen[ind.number] - 1) if counts[ind.number] > 1 else ""
        out.append(_indicator_target(ind, by_id.get(ind.passage_id), f"ind-{ind.number:02d}{suffix}"))
    return out


def _indicator_target(ind: Indicator, p: Passage | None, tid: str) -> Target:
    return Target(
        id=tid,
        what=ind.name,
        value=ind.target_2025,
        unit=ind.unit,
        year="2025",
        baseline=ind.baseline_2020 if has_value(ind.baseline_2020) else "",
        attribute=ind.attribute,
        passage_id=ind.passage_id,
        section=p.section_path if p else "",
        quote=p.text if p else "",
        category=ind.category,
    )


def _body_targets(plan: ParsedDocument, vocab: Vocab) -> list[Target]:
    spans = zone_spans(plan, vocab)
    out: list[Target] = []
    for p in plan.passages:
        # Chapter 一 reports what the 13th plan achieved; those numbers are not targets.
        if p.kind == "table_row" or not p.section or p.section[0].startswith("一、"):
            continue
        for k, f in enumerate(_passage_targets(p), start=1):
            kind, scope = _scope(f, p.start + f.offset, spans, vocab)
            out.append(
                Target(
                    id=f"{p.id}#{k}",
                    what=f.what,
                    value=f.value,
                    unit=f.unit,
                    year=f.year,
                    scope=scope,
                    scope_kind=kind,
                    passage_id=p.id,
                    section=p.section_path,
                    quote=f.quote,
                )
            )
    return _dedupe(out)


def _dedupe(targets: list[Target]) -> list[Target]:
    """专栏 boxes repeat body sentences: keep the first of each (what, year), and drop an undated
    target when the same ``what`` also comes with a deadline."""
    dated = {t.what for t in targets if t.year}
    seen: set[tuple[str, str]] = set()
    out = []
    for t in targets:
        key = (t.what, t.year)
        if key in seen or (not t.year and t.what in dated):
            continue
        seen.add(key)
        out.append(t)
    return out


def extract_targets(corpus: Corpus, vocab: Vocab | None = None) -> tuple[Target, ...]:
    """The indicator-table rows, then the body targets in document order."""
    v = vocab or load_vocab()
    plan = _plan(corpus)
    by_id = {p.id: p for p in plan.passages}
    return (*_indicator_targets(corpus, by_id), *_body_targets(plan, v))


def county_passages(corpus: Corpus, county: County | str, vocab: Vocab | None = None) -> list[Passage]:
    """Passages that name the county (by name or alias) or its zone, or that describe its zone."""
    v = vocab or load_vocab()
    c = county if isinstance(county, County) else lookup_county(county, v)
    return passages_by_county(corpus, [c], v)[c.name]


def passages_by_county(
    corpus: Corpus, counties: Sequence[County], vocab: Vocab | None = None
) -> dict[str, list[Passage]]:
    """``county_passages`` for several counties in one pass over the corpus.

    Each passage is searched for place names once, not once per county, and only when one of
    the names occurs in it at all: with a law library beside the plan this is what keeps
    warming every county at start-up to seconds.
    """
    v = vocab or load_vocab()
    plan = _plan(corpus)
    spans = zone_spans(plan, v)
    zones = {c.name: v.zone_of(c) for c in counties}
    out: dict[str, list[Passage]] = {c.name: [] for c in counties}
    for d in corpus.documents:
        for p in d.passages:
            described = {z.name for s, e, z in spans if d is plan and p.start < e and s < p.end}
            named = may_name_place(p.text, v)
            if not (named or described):
                continue
            found = find_counties(p.text, v, loose=False) if named else []
            found_zones = find_zones(p.text, v) if named else []
            for c in counties:
                zone = zones[c.name]
                if zone.name in described or c in found or zone in found_zones:
                    out[c.name].append(p)
    return out


def _city_why(t: Target) -> str:
    if t.attribute:
        return f"全市{t.attribute}指标，适用于各县（市、区）"
    return "全市目标，适用于各县（市、区）"


def _sector_terms(sector: Sector) -> tuple[str, ...]:
    return (*sector.target_terms, *sector.related)


def _sector_hit(t: Target, sector: Sector) -> str | None:
    """The word that makes ``t`` concern the sector ("" for the sector's own targets), or None."""
    if t.scope_kind == "sector" and sector.name in t.scope_names:
        return ""
    return next((w for w in _sector_terms(sector) if w in t.quote), None)


def _for_place(t: Target, county: County | None, zone: Zone | None) -> str | None:
    """Why ``t`` applies in the county or zone asked about, or None."""
    if t.scope_kind == "city":
        return _city_why(t)
    if t.scope_kind == "sector":
        return f"{t.scope}行业目标，全市适用"
    if t.scope_kind == "zone":
        if zone is not None and t.scope == zone.name:
            return f"{zone.name}任务" + (f"（{county.name}属该区）" if county else "")
        return None
    wanted = {county.name} if county else set(zone.counties if zone else ())
    named = [n for n in t.scope_names if n in wanted]
    if not named:
        return None
    return f"点名{'、'.join(named)}" + (f"（属{zone.name}）" if zone and not county else "")


def _default_why(t: Target) -> str:
    return {
        "city": _city_why(t),
        "zone": f"{t.scope}任务",
        "county": f"点名{t.scope}",
        "sector": f"{t.scope}行业目标",
    }[t.scope_kind]


_ORDER = {"county": 0, "zone": 1, "sector": 2, "city": 3}


def targets_for(
    targets: tuple[Target, ...] | list[Target],
    corpus: Corpus,
    county: County | str | None = None,
    zone: Zone | str | None = None,
    sector: Sector | str | None = None,
    year: str | int | None = None,
    attribute: str | None = None,
    vocab: Vocab | None = None,
) -> list[Target]:
    """The targets that apply, each with ``why``. Raises NotFound for unknown names.

    City-wide targets apply in every county; zone targets in the zone's counties; county targets
    where named; sector targets to businesses of that sector in every county. With a sector, only
    targets that concern it are kept. Place-specific targets come first.
    """
    v = vocab or load_vocab()
    c = county if isinstance(county, County) or county is None else lookup_county(county, v)
    z = zone if isinstance(zone, Zone) or zone is None else lookup_zone(zone, v)
    s = sector if isinstance(sector, Sector) or sector is None else lookup_sector(sector, v)
    if attribute is not None and attribute not in ATTRIBUTES:
        raise InvalidRequest(f"unknown indicator attribute {attribute!r}", list(ATTRIBUTES))
    if c is not None:
        if z is not None and c.zone != z.name:
            raise InvalidRequest(f"{c.name} is in {c.zone}, not in {z.name}", list(z.counties))
        z = v.zone_of(c)
    # City-wide targets stated in a passage that names the county are flagged as such.
    named_here = {
        p.id for p in _plan(corpus).passages if c is not None and c in find_counties(p.text, v, False)
    }
    out = []
    for t in targets:
        if year is not None and t.year != str(year):
            continue
        if attribute is not None and t.attribute != attribute:
            continue
        why = _default_why(t)
        if c is not None or z is not None:
            place = _for_place(t, c, z)
            if place is None:
                continue
            why = place
            if c is not None and t.scope_kind == "city" and t.passage_id in named_here:
                why += f"；同段点名{c.name}"
        if s is not None:
            hit = _sector_hit(t, s)
            if hit is None:
                continue
            if hit:
                why += f"，涉及{s.name}（{hit}）"
            else:
                why = f"{s.name}行业目标" + (f"，全市适用（含{c.name}）" if c else "")
        out.append(replace(t, why=why))
    if c is not None or z is not None:
        out.sort(key=lambda t: _ORDER[t.scope_kind])
    return out
