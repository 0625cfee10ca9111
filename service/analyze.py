"""Reads a question: what it is about (county, sector, document, indicator) and what it wants."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from indexer.tokenize import normalise, tokens

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
_NUMBER_WORDS = ("多少", "几", "比例", "比率", "数值", "目标值", "百分之")
_DEADLINE_WORDS = ("什么时候", "何时", "哪年", "哪一年", "期限", "截止", "之前", "年底", "多久", "时间")
_TARGET_WORDS = ("目标", "指标", "任务", "要求", "要完成", "要做", "考核", "约束性", "预期性")
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


def short_title(title: str) -> str:
    return title.removeprefix("中华人民共和国")


def mentioned_docs(question: str, titles: Mapping[str, str]) -> tuple[str, ...]:
    """Documents named in the question by their title (with or without 中华人民共和国)."""
    q = normalise(question)
    found = []
    for doc_id, title in titles.items():
        short = normalise(short_title(title))
        if len(short) >= 4 and short in q:
            found.append(doc_id)
    return tuple(found)


def term_groups(
    terms: tuple[str, ...], sector: Sector | None, county: County | None, vocab: Vocab
) -> tuple[tuple[str, ...], ...]:
    """Each content term with its stand-ins: 臭味 is answered by a passage about 恶臭."""
    groups = []
    for t in terms:
        alts = [t]
        for entry in vocab.everyday:
            if any(normalise(say) in t or t in normalise(say) for say in entry.say):
                alts.extend(normalise(m) for m in entry.means)
        if sector is not None and any(t in normalise(n) or normalise(n) in t for n in sector.names):
            alts.extend(normalise(m) for m in sector.plan_terms)
        if county is not None and any(t in normalise(n) for n in county.names):
            alts.extend(normalise(n) for n in county.names)
        groups.append(tuple(dict.fromkeys(alts)))
    return tuple(groups)


def analyse(question: str, titles: Mapping[str, str], everyday: bool = True) -> Query:
    """``everyday=False`` ignores the everyday-wording table (to measure what it adds)."""
    vocab = load_vocab() if everyday else replace(load_vocab(), everyday=())
    county = resolve_county(question)
    found_zone = resolve_zone(question)
    zone = county.zone if county else (found_zone.name if found_zone else None)
    sector = resolve_sector(question)
    expansions = tuple(expand_query(question, vocab))
    years = tuple(dict.fromkeys(m.group(1) for m in _YEAR.finditer(question)))
    terms = tuple(t for t in dict.fromkeys(tokens(question)) if t not in _FORM_WORDS and not t.isdigit())
    groups = term_groups(terms, sector, county, vocab)
    return Query(
        question=question,
        groups=groups,
        terms=terms,
        expansions=expansions,
        county=county,
        zone=zone,
        sector=sector,
        years=years,
        doc_ids=mentioned_docs(question, titles),
        wants_number=any(w in question for w in _NUMBER_WORDS),
        wants_deadline=any(w in question for w in _DEADLINE_WORDS),
        wants_targets=any(w in question for w in _TARGET_WORDS),
    )
