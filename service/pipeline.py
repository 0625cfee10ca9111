"""From a question to an Answer: analyse, retrieve, decide whether the documents answer, compose."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.corpus import Corpus, index_text
from indexer.records import Hit, Passage
from indexer.search import Searcher
from indexer.tokenize import tokens

from .analyze import Query, analyse
from .answer import (
    Answer,
    Citation,
    Scored,
    coverage,
    indicator_sentence,
    pick_sentences,
    quote_for,
    score_sentences,
)
from .targets import Target, county_passages, targets_for
from .vocab import County, Sector

# Below this share of the question's weighted content found in the best passages, the
# documents are taken not to answer it. Set on questions written for tuning, kept apart
# from the evaluation set.
MIN_COVERAGE = 0.15
_DIGIT = re.compile(r"\d")
# A number as the documents write it: digits, or Chinese numerals with a unit (五年, 百分之三十).
_NUMBER = re.compile(r"\d|百分之|[一二三四五六七八九十两百千万]+[年月日天个项吨元倍]")
_YEAR_IN_TEXT = re.compile(r"20\d\d年")
_MARKER = re.compile(r"\[\d+\]")
# Names like PM10, 5G, LED: with a digit or in capitals, they name one specific thing.
_TECHNICAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.]*[A-Za-z0-9]")
# What kind of value a question asks for, and what an answer giving it must contain.
_ASKED_VALUE = [
    (
        re.compile(r"多少钱|几块钱|多少元|多少万元|多少亿|补贴多少|罚款?多少|罚多少"),
        re.compile(r"\d[\d.]*(?:万|亿)?元"),
        "金额",
    ),
    (re.compile(r"多少吨|几吨"), re.compile(r"\d[\d.]*万?吨"), "吨数"),
    (re.compile(r"多少个|(?<!哪)几个"), re.compile(r"\d+个|[一二三四五六七八九十两]个"), "数量"),
    (re.compile(r"哪一年|哪年|什么时候|何时|啥时候|几时"), re.compile(r"20\d\d年|年底|年前"), "时间"),
    (re.compile(r"多少天|几天"), re.compile(r"\d+天|[一二三四五六七八九十两]日"), "天数"),
]
CANDIDATES = 8
ARTICLE_CHARS = 700
PLAN_ID = "langfang-eco-plan"
TABLE_YEARS = ("2020", "2025")
EXTRA_MATCH = 0.5  # a body sentence joins an indicator answer only when it is about the same thing
MIN_ROW_MATCH = 0.25  # share of the question's words an indicator's name must carry
ZONES = ("北部协同发展区", "中部发展引领区", "南部优化发展区")
ABSTAIN_TEXT = "规划及所收录的法律法规中没有找到对这一问题的明确答复。下列相关内容仅供参考，不构成答案。"


def compute_idf(passages: Sequence[Passage]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for p in passages:
        df.update(set(tokens(index_text(p))))
    n = len(passages)
    return {t: math.log(1 + n / c) for t, c in df.items()} | {"__unseen__": math.log(1 + n)}


class _Idf(dict[str, float]):
    """IDF that treats a term never seen in the corpus as the rarest kind."""

    def __init__(self, base: Mapping[str, float]) -> None:
        super().__init__(base)
        self.unseen = base.get("__unseen__", 8.0)

    def get(self, key: str, default: float | None = None) -> float:  # type: ignore[override]
        return super().get(key, self.unseen)


@dataclass
class _Citations:
    """Numbers passages in the order they are first cited or listed."""

    items: list[Hit]

    def number(self, hit: Hit) -> int:
        for i, h in enumerate(self.items):
            if h.passage.id == hit.passage.id:
                return i + 1
        self.items.append(hit)
        return len(self.items)


SHORT_PASSAGE = 260


def _whole_short_passages(picked: Sequence[Scored]) -> list[Scored]:
    """A short passage is quoted whole: its other sentences usually finish what the best one says."""
    out: list[Scored] = []
    used_chars = 0
    for s in picked:
        p = s.hit.passage
        whole = Scored(s.hit, 0, len(p.text), s.score)
        if any(o.hit.passage.id == p.id and o.start == 0 and o.end == len(p.text) for o in out):
            continue
        if len(p.text) <= SHORT_PASSAGE and used_chars + len(p.text) <= 2 * SHORT_PASSAGE:
            out.append(whole)
            used_chars += len(p.text)
        else:
            out.append(s)
            used_chars += len(s.text)
    return out


def _distinct(items: Sequence[Scored]) -> list[Scored]:
    out: list[Scored] = []
    for s in items:
        if not any(s.text in o.text or o.text in s.text for o in out):
            out.append(s)
    return out


_ASKS_ZONE = re.compile(r"功能区|分区|发展区|定位|属于|哪个区|所在")
_ASKS_PLAN = re.compile(r"规划|十四五")
_PLAN_WORDS = re.compile(r"廊坊市?|“?十四五”?|规划里?|生态环境保护")
_TABLE_WORDS = re.compile(r"基数|基准|现状值|单位是|指标属性|约束性|预期性|2025")


def _asks_table(q: Query) -> bool:
    return q.wants_targets or bool(_TABLE_WORDS.search(q.question))


def missing_value(q: Query, answer: str) -> str | None:
    """When the question asks for a value of a kind that the answer's leading sentences do not give."""
    # The first two quoted units are what answer the question; later ones are context.
    lead = "[".join(answer.split("[")[:2]) if q.county is None else answer
    for asks, gives, what in _ASKED_VALUE:
        if asks.search(q.question) and not gives.search(lead):
            return f"文件中未找到所问的{what}。"
    first = answer.split("[")[0]  # the best unit alone: a number elsewhere may be about something else
    if q.county is None and "多少" in q.question and "目标为" not in first and not _NUMBER.search(first):
        return "文件中未找到所问的数值。"
    if q.county is not None and (q.wants_number or q.wants_deadline):
        own = [line for line in answer.split("。") if line.startswith(f"点名{q.county.name}")]
        if not any(_DIGIT.search(_MARKER.sub("", line)) for line in own):
            city = answer.split("。")[0] if "目标为" in answer.split("。")[0] else ""
            note = f"全市的相应目标（适用于各县（市、区））：{city}。" if city else ""
            return f"规划未单独给出{q.county.name}的相应数值。{note}"
    return None


class QA:
    def __init__(
        self, corpus: Corpus, searcher: Searcher, targets: Sequence[Target], everyday: bool = True
    ) -> None:
        self.everyday = everyday
        self.corpus = corpus
        self.searcher = searcher
        self.targets = tuple(targets)
        self.idf = _Idf(compute_idf(corpus.passages))
        self.titles = {d.meta.id: d.meta.title for d in corpus.documents}
        self.passages = corpus.passages
        self.by_id = {p.id: p for p in self.passages}
        self.pos = {p.id: i for i, p in enumerate(self.passages)}
        self._county_cache: dict[str, list[Passage]] = {}
        self._sector_cache: dict[str, list[Passage]] = {}

    def warm(self) -> None:
        """Fills the per-county and per-sector passage lists (start-up), so the first question
        about a county or trade costs what later ones do: one scan takes ~100 ms or more."""
        from .vocab import load_vocab

        vocab = load_vocab()
        for county in vocab.counties:
            self._county_passages(county)
        for sector in vocab.sectors:
            self._sector_passages(sector)

    def _county_passages(self, county: County) -> list[Passage]:
        if county.name not in self._county_cache:  # scanning the plan for names is slow; once per county
            self._county_cache[county.name] = county_passages(self.corpus, county)
        return self._county_cache[county.name]

    def _sector_passages(self, sector: Sector) -> list[Passage]:
        if sector.name not in self._sector_cache:
            names = [n for n in sector.names if len(n) >= 2]
            self._sector_cache[sector.name] = [
                p
                for p in self.passages
                if p.doc_id == PLAN_ID and p.kind != "table_row" and any(n in p.text for n in names)
            ]
        return self._sector_cache[sector.name]

    def _hit(self, passage: Passage, score: float = 0.0, rank: int = 99) -> Hit:
        return Hit(passage, score, rank, self.titles[passage.doc_id])

    def retrieve(self, q: Query, doc_ids: Sequence[str] | None, depth: int) -> list[Hit]:
        text = q.question
        if doc_ids == [PLAN_ID]:
            # Inside the plan, its own name says nothing about which passage is meant.
            text = _PLAN_WORDS.sub(" ", text).strip() or q.question
        ranking = self.searcher.rank(text, "hybrid", doc_ids, depth=50, expansion=" ".join(q.expansions))
        return self.searcher.hits(ranking, depth, "hybrid")

    def unanswerable(self, q: Query, hits: Sequence[Hit]) -> str | None:
        """Why the documents cannot answer, judged before composing; None when they may."""
        if not hits:
            return ""
        top = [index_text(h.passage) for h in hits[:5]]
        for year in q.years:
            if not any(year in t for t in top):
                return f"文件中没有关于{year}年的相应内容。"
        # A technical name the documents never use (PM10, 5G, LED) is a subject they do not cover.
        for name in _TECHNICAL.findall(q.question):
            if (any(c.isdigit() for c in name) or name.isupper()) and name.lower() not in self.idf:
                return f"文件未涉及“{name}”。"
        best = max(coverage(t, q.groups, self.idf) for t in top)
        if best < MIN_COVERAGE and q.county is None and q.sector is None:
            return ""
        return None

    def ask(
        self, question: str, top_k: int = 5, doc_ids: Sequence[str] | None = None
    ) -> tuple[Answer, Query]:
        self.searcher.check_doc_ids(doc_ids)
        q = analyse(question, self.titles, self.everyday)
        scope = list(doc_ids or q.doc_ids) or None
        if scope is None and _ASKS_PLAN.search(q.question) and PLAN_ID in self.titles:
            scope = [PLAN_ID]  # "规划里怎么说": the asker wants the plan, not the statute book
        hits = self.retrieve(q, scope, max(top_k, CANDIDATES))
        reason = self.unanswerable(q, hits)
        answer = None if reason is not None else self.compose(q, hits, top_k)
        if answer is not None:
            reason = missing_value(q, answer.text) if answer.text else ""
        if reason is None and answer is not None:
            return answer, q
        related = (
            answer.citations[:3]
            if answer is not None
            else tuple(Citation(i + 1, h, quote_for(h, [], [])) for i, h in enumerate(hits[:3]))
        )
        related = tuple(Citation(i + 1, c.hit, c.quote) for i, c in enumerate(related))
        return Answer(f"{ABSTAIN_TEXT}{reason or ''}", True, (), related, ()), q

    def _indicators(self, q: Query, hits: Sequence[Hit]) -> tuple[list[tuple[Target, Hit]], bool]:
        """Indicator-table rows among the best hits that the question is about, best first, and
        whether the best of them matches the question strongly."""
        if any(y not in TABLE_YEARS for y in q.years):
            return [], False  # the table speaks of 2020 and 2025 only
        rows = {h.passage.id: h for h in hits[:5] if h.passage.kind == "table_row"}
        # Single characters match inside unrelated names (线 in 红线); rows are matched on words.
        words = [g for g in q.groups if len(g[0]) > 1 or g[0].isascii()]
        cands = []
        for t in self.targets:
            hit = rows.get(t.passage_id)
            if hit is not None and t.scope_kind == "city":
                cands.append((coverage(f"{t.what}{t.unit}", words, self.idf), t, hit))
        if not cands:
            return [], False
        best = max(c[0] for c in cands)
        if best < MIN_ROW_MATCH:
            return [], False
        cands.sort(key=lambda c: (-c[0], c[2].rank))
        chosen = [(t, hit) for cov, t, hit in cands if cov >= 0.75 * best][:4]
        return chosen, best >= 0.6 and (q.wants_number or q.wants_targets)

    def compose(self, q: Query, hits: list[Hit], top_k: int) -> Answer:
        # Passages are numbered in the order the answer uses them, then the other best hits follow.
        cites = _Citations([])
        lines: list[str] = []
        chosen: list[Scored] = []
        used_targets: list[Target] = []
        scored = score_sentences(q, hits, self.idf)

        indicators, strong = self._indicators(q, hits)
        # A table row leads when the question asks for targets, or when it is simply the best match.
        if indicators and (_asks_table(q) or strong or indicators[0][1].rank == 1 or not scored):
            for t, hit in indicators:
                lines.append(indicator_sentence(t, f"[{cites.number(hit)}]"))
                used_targets.append(t)
            # The body text may state the same goal more sharply ("稳定在35%以上" beside "不降低").
            extra = [
                x
                for x in pick_sentences(scored, max_n=1)
                if q.wants_number
                and _DIGIT.search(_YEAR_IN_TEXT.sub("", x.text))
                and coverage(x.text, q.groups, self.idf) >= EXTRA_MATCH
            ]
            for x in extra:
                chosen.append(x)
                lines.append(f"{x.text.rstrip('。；;')}[{cites.number(x.hit)}]。")

        if q.county is not None:
            lines.extend(self._county_lines(q, cites, chosen, used_targets))
        elif q.zone is not None:
            lines.extend(self._zone_lines(q.zone, cites, chosen))
        wants_rules = q.sector is not None and not (q.wants_deadline or q.wants_number)
        if not lines:
            picked = pick_sentences(scored)
            if picked and picked[0].hit.passage.kind == "article":
                lines.extend(self._article_lines(picked[0], cites, chosen))
            else:
                picked = picked[:2] if wants_rules else picked
                if not (q.wants_number or q.wants_deadline):  # a value is best given in its own sentence
                    picked = _whole_short_passages(picked)
                chosen.extend(picked)
                for s in picked:
                    lines.append(f"{s.text.rstrip('。；;')}[{cites.number(s.hit)}]。")
        if wants_rules:
            lines.extend(self._sector_lines(q, cites, chosen))
            lines.extend(self._law_lines(q, cites, chosen))

        for h in hits:
            if len(cites.items) >= top_k:
                break
            cites.number(h)
        citations = []
        for i, hit in enumerate(cites.items):
            citations.append(Citation(i + 1, hit, quote_for(hit, chosen, scored)))
        return Answer("".join(lines), False, tuple(citations), (), tuple(used_targets))

    def _county_lines(
        self, q: Query, cites: _Citations, chosen: list[Scored], used: list[Target]
    ) -> list[str]:
        assert q.county is not None
        county = q.county
        lines = [f"{county.name}属于{county.zone}。"]
        named = [self._hit(p) for p in self._county_passages(county)]
        scored = score_sentences(q, named, self.idf)
        zones = ZONES
        own = [
            s
            for s in scored
            if any(a in s.text for a in county.names) and not any(z in s.text for z in zones)
        ]
        # Every task that names the county is listed, in the plan's order, not only the best match.
        own.sort(key=lambda s: (self.pos[s.hit.passage.id], s.start))
        # A question about the county's zone ("所在的功能区…") is answered by the zone first;
        # citation numbers follow the order in which the answer uses passages.
        zone_first = bool(_ASKS_ZONE.search(q.question))
        if zone_first:
            lines.extend(self._zone_lines(county.zone, cites, chosen))
        for s in _distinct(own)[:4]:
            chosen.append(s)
            lines.append(f"点名{county.name}的任务：{s.text.rstrip('。；;')}[{cites.number(s.hit)}]。")
        if not zone_first:
            lines.extend(self._zone_lines(county.zone, cites, chosen))
        applicable = targets_for(self.targets, self.corpus, county=county.name)
        binding = [t for t in applicable if t.scope_kind == "city" and t.attribute == "约束性"]
        if binding:
            row = self.by_id.get(binding[0].passage_id)
            marker = f"[{cites.number(self._hit(row))}]" if row else ""
            lines.append(
                f"全市{len(binding)}项约束性指标同样适用于{county.name}（见目标表），"
                f"如{binding[0].what}2025年目标{binding[0].value}{binding[0].unit}{marker}。"
            )
        used.extend(t for t in applicable if t not in used)
        return lines

    def zone_segment(self, zone: str) -> list[Scored]:
        """The plan's text on a zone: its defining sentence up to where the next zone begins."""
        from indexer.chunk import sentences

        others = [z for z in ZONES if z != zone]
        out: list[Scored] = []
        start = next((p for p in self.passages if p.doc_id == PLAN_ID and f"{zone}，" in p.text), None)
        if start is None:
            return out
        i = self.pos[start.id]
        while i < len(self.passages) and len(out) < 6:
            p = self.passages[i]
            if p.section != start.section or p.topic != start.topic:
                break
            for a, b in sentences(p.text):
                sent = p.text[a:b]
                if not out and zone not in sent:
                    continue
                if out and any(z in sent for z in others):
                    return out
                out.append(Scored(self._hit(p), a, b, 0.0))
            i += 1
        return out

    def _zone_lines(self, zone: str, cites: _Citations, chosen: list[Scored]) -> list[str]:
        parts = self.zone_segment(zone)
        chosen.extend(parts)
        body = "".join(f"{x.text.rstrip('。；;')}[{cites.number(x.hit)}]。" for x in parts)
        return [f"{zone}的定位与任务：{body}"] if body else []

    def _article_lines(self, best: Scored, cites: _Citations, chosen: list[Scored]) -> list[str]:
        """A law answers with its whole article: obligations come as lists that must not be cut."""
        p = best.hit.passage
        parts = [x for x in self.passages if x.doc_id == p.doc_id and x.section == p.section]
        if sum(len(x.text) for x in parts) > ARTICLE_CHARS:
            parts = [x for x in parts if x.id == p.id or x is parts[0]]
        article = p.section[-1]
        out = [f"根据《{best.hit.doc_title}》{article}："]
        for x in parts:
            hit = best.hit if x.id == p.id else self._hit(x)
            chosen.append(Scored(hit, 0, len(x.text), 1.0))
            body = x.text.removeprefix(article).strip().rstrip("。；;")
            out.append(f"{body}[{cites.number(hit)}]。")
        return out

    def _sector_lines(self, q: Query, cites: _Citations, chosen: list[Scored]) -> list[str]:
        """Plan sentences that name the trade itself, best first, a few at most."""
        assert q.sector is not None
        named = [self._hit(p) for p in self._sector_passages(q.sector)]
        scored = [s for s in score_sentences(q, named, self.idf) if any(n in s.text for n in q.sector.names)]
        lines: list[str] = []
        for s in _distinct(scored):
            if len(lines) >= 3:
                break
            if any(s.text in c.text or c.text in s.text for c in chosen):
                continue
            chosen.append(s)
            lines.append(f"{s.text.rstrip('。；;')}[{cites.number(s.hit)}]。")
        return lines

    def _law_lines(self, q: Query, cites: _Citations, chosen: list[Scored]) -> list[str]:
        assert q.sector is not None
        docs = [d for d in q.sector.law_doc_ids if d in self.titles]
        if not docs:
            return []
        ranking = self.searcher.rank(q.question, "hybrid", docs, depth=10, expansion=" ".join(q.expansions))
        hits = self.searcher.hits(ranking, 2, "hybrid")
        scored = score_sentences(q, hits, self.idf)
        lines = []
        for s in pick_sentences(scored, max_n=1):
            if any(c.hit.passage.id == s.hit.passage.id for c in chosen):
                continue
            chosen.append(s)
            article = s.hit.passage.section[-1]
            body = s.text.removeprefix(article).strip().rstrip("。；;")
            lines.append(f"相关法规：《{s.hit.doc_title}》{article}规定，{body}[{cites.number(s.hit)}]。")
        return lines
