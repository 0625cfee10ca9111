"""Reads a question: what it is about (county, sector, document, indicator) and what it wants."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from indexer.tokenize import normalise, segment, tokens

from .intents import Intents, ValueKind, load_intents
from .parts import Part, split_parts
from .places import find_places, names_home
from .vocab import (
    County,
    Sector,
    Vocab,
    expand_query,
    load_vocab,
    resolve_county,
    resolve_sector,
    resolve_zone,
)

_YEAR = re.compile(r"(20\d\d|19\d\d)\s*年?")
# Names like PM10, 5G, LED: with a digit or in capitals, they name one specific thing.
_TECHNICAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.]*[A-Za-z0-9]")
# Words that carry the question's form, not its subject: they must not decide relevance.
_FORM_WORDS = frozenset(
    [
        "多少",
        "几",
        "哪些",
        "什么",
        "怎么",
        "如何",
        "规定",
        "要求",
        "有关",
        "相关",
        "方面",
        "主要",
        "具体",
        "情况",
        "内容",
        "问题",
        "工作",
        "进行",
        "开展",
        "提出",
        "达到",
        "实现",
        "完成",
        "加强",
        "推进",
        "我们",
        "咱们",
        "企业",
        "单位",
        "目标",
        "廊坊",
        "廊坊市",
        "全市",
        "十四五",
        "规划",
        "文件",
        "法律",
        "条例",
        "规定",
        "应当",
        "是否",
        "时候",
        "哪年",
        "需要",
        "注意",
        "怎样",
        "办",
        "吗",
        "呢",
        "年",
        "月",
        "日",
    ]
)


@dataclass(frozen=True)
class Query:
    question: str
    terms: tuple[str, ...]  # content tokens that decide whether a passage answers it
    groups: tuple[tuple[str, ...], ...]  # each term with the document words that can stand for it
    expansions: tuple[str, ...]
    county: County | None
    zone: str | None
    sector: Sector | None
    years: tuple[str, ...]
    doc_ids: tuple[str, ...]  # documents the question names ("大气污染防治法…")
    wants_number: bool
    wants_deadline: bool
    wants_targets: bool
    # Every wording cue later stages need, read here once (service/data/intents.toml).
    asks_table: bool = False  # 基数, 属性 …: the indicator table rather than prose
    asks_zone: bool = False  # which functional zone a place belongs to
    asks_plan: bool = False  # what the plan says, not the statute book
    asks_penalty: bool = False
    asks_scope: bool = False  # where a law applies, why it was made
    asks_amount: bool = False  # a bare 多少: the leading sentence must give a number
    period: str = ""  # "current" (十四五, still to do), "past" (十三五, achieved) or ""
    asked_value: ValueKind | None = None  # 金额, 时间 …: what the answer's source must contain
    technical: tuple[str, ...] = ()  # PM10, 5G: specific names the documents may not use
    places: tuple[str, ...] = ()  # places outside the plan's city (石家庄, 河北 …)
    home: bool = False  # set in the plan's city: by its name, a county or a zone
    plan_text: str = ""  # the question without the plan's own name, for searching inside the plan
    search_text: str = ""  # the question as searched: Latin short forms spelled out (COD（化学需氧量）)
    parts: tuple[Part, ...] = ()  # sub-questions of a multi-part question, each answered on its own
    quoted: tuple[str, ...] = ()  # names the question puts in quotation marks
    other_statutes: tuple[str, ...] = ()  # statutes the question names that the corpus lacks
    asks_rules: bool = False  # a trade's requirements are asked, not one specific thing about it
    # Latin short forms the asking clause names (VOCs, COD), each with the everyday table's words
    # for it (the pipeline adds the corpus's): a value asked about one is given by a sentence
    # that names it.
    named_forms: tuple[tuple[str, ...], ...] = ()
    asks_listing: bool = False  # which items a group holds (这一类下有哪几项指标)
    asks_problems: bool = False  # what the plan admits is still wrong (面临问题和挑战)
    # The years the asking clause names: "规划说到2025年要到45%，那2020年是多少？" asks for 2020,
    # and 2025 is only what the asker already knows.
    ask_years: tuple[str, ...] = ()
    # The figures the question states before it asks (听说治污水投了12亿元，那治扬尘投了多少？):
    # what the asker already knows, so a sentence giving only them answers nothing new.
    known_numbers: tuple[str, ...] = ()

    @property
    def asked_years(self) -> tuple[str, ...]:
        """The years a value is asked for: the asking clause's, else any the question names."""
        return self.ask_years or self.years


def quoted_names(question: str, cues: Intents) -> tuple[str, ...]:
    """The names the question quotes, but for the names of a five-year period."""
    names = (normalise(m.group(1)) for m in _QUOTED_NAME.finditer(question))
    return tuple(dict.fromkeys(n for n in names if not cues.has("period_name", n)))


_STATUTE_END = ("法", "条例", "办法", "细则")


def _abbreviates(name: str, title: str) -> bool:
    """Whether the name's characters stand in the title in order: 环评法 for 环境影响评价法."""
    rest = iter(title)
    return all(ch in rest for ch in name)


def named_statutes(question: str, cues: Intents) -> tuple[str, ...]:
    """Statutes the question names: in title marks, or after 按照 / 根据 … (cue.statute)."""
    marked = [normalise(m.group(1)) for m in _QUOTED_TITLE.finditer(question)]
    named = [n for n in marked if n.endswith(_STATUTE_END)]
    named += [normalise(m.group("name")) for m in cues.cues["statute"].pattern.finditer(question)]
    return tuple(dict.fromkeys(named))


def _fitting_titles(name: str, titles: Mapping[str, str]) -> list[tuple[int, str]]:
    """(title length, document) of every title the name abbreviates, shortest first."""
    return sorted((len(t), d) for d, t in titles.items() if _abbreviates(name, normalise(t)))


def abbreviated_doc(name: str, titles: Mapping[str, str]) -> str | None:
    """The document a statute's name or short form stands for: the shortest title it abbreviates
    (环保法 is 环境保护法 rather than 环境保护税法); None when no title, or two as short, fit."""
    fits = _fitting_titles(name, titles)
    if not fits or (len(fits) > 1 and fits[0][0] == fits[1][0]):
        return None
    return fits[0][1]


def other_statutes(statutes: tuple[str, ...], titles: Mapping[str, str]) -> tuple[str, ...]:
    """The named statutes that no corpus document is, by its title or a short form of it.
    Titles are only read when the question names a statute: most questions name none."""
    return tuple(n for n in statutes if not _fitting_titles(n, titles))


def short_title(title: str) -> str:
    return title.removeprefix("中华人民共和国")


_QUOTED_TITLE = re.compile(r"《([^》]{1,40})》")
# A name the asker puts in quotation marks (“绿色学校”) in the asking clause: the thing asked
# about, by its name (quoted in the scene, it is often hearsay: 听说要搞“低碳社区”).
_QUOTED_NAME = re.compile(r"[“「]([^“”「」]{2,20})[”」]")
_ASKING_CLAUSE = re.compile(r"[^，,；;。？?！!]*[？?]")
_CLAUSE = re.compile(r"[^，,；;。？?！!]+[，,；;。？?！!]?")


def mentioned_docs(
    question: str, titles: Mapping[str, str], statutes: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Documents named in the question by their title (with or without 中华人民共和国), or by
    a short form of it among the ``statutes`` it names (按环评法).

    A short title (水法) counts only in title marks (《水法》): bare, two characters occur in
    ordinary words.
    """
    q = normalise(question)
    quoted = {normalise(m.group(1)) for m in _QUOTED_TITLE.finditer(question)}
    found = []
    for doc_id, title in titles.items():
        short = normalise(short_title(title))
        if (len(short) >= 4 and short in q) or short in quoted or normalise(title) in quoted:
            found.append(doc_id)
    if not found:
        found += [d for d in (abbreviated_doc(n, titles) for n in statutes) if d is not None]
    return tuple(dict.fromkeys(found))


def asking_text(question: str) -> str:
    """The clauses that ask (those ending in a question mark, else the last clause): what kind
    of value is wanted is read here, not in the scene ("我们几个人想去…")."""
    asked = [m.group(0) for m in _ASKING_CLAUSE.finditer(question)]
    if asked:
        return "".join(asked)
    clauses = [c for c in re.split(r"[，,；;。！!]", question) if c.strip()]
    return clauses[-1] if clauses else question


def subject_text(question: str, ask: str, cues: Intents) -> str:
    """The question without the clauses that set the asker's scene (first person, outside the
    asking clauses): a county or zone named only there is where the asker is, not what is asked
    about, unless the asking clause points back at it ("我们这儿")."""
    if ask == question or cues.has("here", ask):
        return question
    clauses = [m.group(0) for m in _CLAUSE.finditer(question)]
    return "".join(c for c in clauses if c in ask or not cues.has("scene", c))


@dataclass(frozen=True)
class _EverydayIndex:
    """The everyday table normalised once, with every wording and every piece of one indexed.

    A term matches an entry when one of its wordings is inside the term or the term inside it;
    looking up the term's substrings in ``wordings`` and the term in ``pieces`` finds the same
    entries as comparing the term with every wording, without the scan of the whole table."""

    means: tuple[tuple[str, ...], ...]
    wordings: dict[str, frozenset[int]]
    pieces: dict[str, frozenset[int]]

    def entries(self, term: str) -> list[int]:
        found = set(self.pieces.get(term, ()))
        for piece in _substrings(term):
            found |= self.wordings.get(piece, frozenset())
        return sorted(found)


def _substrings(text: str) -> set[str]:
    return {text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1)}


@lru_cache(maxsize=4)
def _normalised_everyday(vocab: Vocab) -> _EverydayIndex:
    wordings: dict[str, set[int]] = {}
    pieces: dict[str, set[int]] = {}
    for k, entry in enumerate(vocab.everyday):
        for say in entry.say:
            w = normalise(say)
            wordings.setdefault(w, set()).add(k)
            for piece in _substrings(w):
                pieces.setdefault(piece, set()).add(k)
    return _EverydayIndex(
        means=tuple(tuple(normalise(m) for m in e.means) for e in vocab.everyday),
        wordings={w: frozenset(ks) for w, ks in wordings.items()},
        pieces={p: frozenset(ks) for p, ks in pieces.items()},
    )


def _latin_entries(name: str, vocab: Vocab) -> frozenset[int]:
    """Everyday entries that give this Latin name as one of their wordings, whole: "CO" is not
    a piece of "COD", nor "NO" of "NO2"."""
    return _normalised_everyday(vocab).wordings.get(normalise(name), frozenset())


def _latin_means(name: str, vocab: Vocab) -> tuple[str, ...]:
    """The everyday table's document words for a Latin short form ("COD" → 化学需氧量)."""
    found = _latin_entries(name, vocab) if any(c.isalpha() for c in name) else frozenset()
    return tuple(dict.fromkeys(m for k in sorted(found) for m in vocab.everyday[k].means))


def _spelled(name: str, vocab: Vocab) -> str:
    """A Latin short form with the documents' words for it: "COD" → "COD（化学需氧量）"."""
    words = _latin_means(name, vocab)
    return f"{name}（{'、'.join(words)}）" if words else name


def named_forms(ask: str, vocab: Vocab) -> tuple[tuple[str, ...], ...]:
    """Each Latin short form of the asking clause (VOCs, PM2.5), with the everyday table's
    spellings of it, normalised as passages are matched; the corpus's own are added later."""
    return tuple(
        tuple(dict.fromkeys([normalise(name), *map(normalise, _latin_means(name, vocab))]))
        for name in dict.fromkeys(_TECHNICAL.findall(ask))
        if any(c.isalpha() for c in name)
    )


def term_groups(
    terms: tuple[str, ...], sector: Sector | None, county: County | None, vocab: Vocab
) -> tuple[tuple[str, ...], ...]:
    """Each content term with its stand-ins: 臭味 is answered by a passage about 恶臭."""
    groups = []
    everyday = _normalised_everyday(vocab)
    for t in terms:
        alts = [t]
        for k in everyday.entries(t):
            alts.extend(everyday.means[k])
        if sector is not None and any(t in normalise(n) or normalise(n) in t for n in sector.names):
            alts.extend(normalise(m) for m in sector.plan_terms)
        if county is not None and any(t in normalise(n) for n in county.names):
            alts.extend(normalise(n) for n in county.names)
        groups.append(tuple(dict.fromkeys(alts)))
    return tuple(groups)


# A figure, not part of a name (PM2.5, O3, 5G).
_STATED = re.compile(r"(?<![\dA-Za-z.])\d+(?:\.\d+)?(?![\d.A-Za-z])")


def stated_numbers(question: str, ask: str) -> tuple[str, ...]:
    """The figures of the clauses before the asking one, calendar years left out."""
    before = question[: question.rfind(ask)] if ask and ask in question else ""
    found = (m.group(0) for m in _STATED.finditer(_YEAR.sub(" ", before)))
    return tuple(dict.fromkeys(found))


def analyse(question: str, titles: Mapping[str, str], everyday: bool = True) -> Query:
    """``everyday=False`` ignores the everyday-wording table (to measure what it adds)."""
    vocab = load_vocab() if everyday else replace(load_vocab(), everyday=())
    cues = load_intents()
    ask = asking_text(question)
    named_county, named_zone = resolve_county(question), resolve_zone(question)
    subject = subject_text(question, ask, cues)
    county = named_county if subject == question else resolve_county(subject)
    found_zone = named_zone if subject == question else resolve_zone(subject)
    zone = county.zone if county else (found_zone.name if found_zone else None)
    sector = resolve_sector(question)
    expansions = tuple(expand_query(question, vocab))
    years = tuple(dict.fromkeys(m.group(1) for m in _YEAR.finditer(question)))
    statutes = named_statutes(question, cues)
    words = tokens(question)
    terms = tuple(t for t in dict.fromkeys(words) if t not in _FORM_WORDS and not t.isdigit())
    groups = term_groups(terms, sector, county, vocab)
    current, past = cues.has("current_period", question), cues.has("past_period", question)
    # A name needs a letter: bare numbers (2025, 35) are years and values, not subjects. A name
    # the everyday table spells out (COD → 化学需氧量) is one the documents cover in other words.
    # Only the asking clause's names: one in the scene or the story before the ask ("我在一家用
    # HCFC-141b发泡的厂", "把R22冷媒卖给了散户") is context, not what is asked about (dev: one false
    # abstention fewer each time, abstention recall unchanged).
    technical = tuple(
        n
        for n in _TECHNICAL.findall(ask)
        if any(c.isalpha() for c in n)
        and (any(c.isdigit() for c in n) or n.isupper())
        and not _latin_entries(n, vocab)
    )
    # Searched with the Latin short forms the table knows spelled out beside them: the words of
    # the documents then reach the dense channels too, not only the expanded keyword one.
    search_text = _TECHNICAL.sub(lambda m: _spelled(m.group(0), vocab), question)
    plan_text = cues.cues["plan_name"].pattern.sub(" ", search_text).strip()
    # Set in 廊坊 (by name, county or zone), the question is about it: another place in the scene
    # is context, and one in the asking clause is judged against the corpus (decide.py).
    # Plain segmentation for place names: search mode would also yield 大理 out of 大理石.
    home = named_county is not None or named_zone is not None or names_home(question)
    place_text = ask if home else question
    return Query(
        question=question,
        groups=groups,
        terms=terms,
        expansions=expansions,
        county=county,
        zone=zone,
        sector=sector,
        years=years,
        ask_years=tuple(y for y in years if y in ask),
        known_numbers=stated_numbers(question, ask),
        doc_ids=mentioned_docs(question, titles, statutes),
        wants_number=cues.has("number", ask),
        wants_deadline=cues.has("deadline", ask),
        wants_targets=cues.has("targets", question),
        asks_table=cues.has("targets", question) or cues.has("table", question),
        asks_zone=cues.has("zone", question),
        asks_plan=cues.has("plan", question),
        asks_penalty=cues.has("penalty", question),
        asks_scope=cues.has("scope", question),
        asks_amount=cues.has("amount", ask),
        period="current" if current and not past else "past" if past else "",
        asked_value=cues.asked_value(ask),
        technical=technical,
        places=find_places(place_text, frozenset(segment(place_text))),
        home=home,
        plan_text=plan_text or search_text,
        search_text=search_text,
        quoted=quoted_names(ask, cues),
        other_statutes=other_statutes(statutes, titles),
        named_forms=named_forms(ask, vocab),
        asks_listing=cues.has("listing", ask),
        asks_problems=cues.has("problems", ask),
        asks_rules=sector is not None and (cues.has("rules", ask) or resolve_sector(ask) is not None),
        parts=(
            split_parts(question, cues.cues["ask"].pattern, cues.cues["scene"].pattern)
            if cues.has("multipart", question)
            else ()
        ),
    )
