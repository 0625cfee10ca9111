"""Extractive answers: chosen sentences and structured values, each with its citation marker."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from indexer.chunk import sentences
from indexer.records import Hit, Passage
from indexer.tokenize import normalise

from .analyze import Query
from .targets import Target

ANSWER_CHARS = 360  # an answer an official reads at a glance
# How much a passage's retrieval rank counts beside word overlap when sentences are picked.
RANK_PRIOR = 2.0  # chosen on the dev split (0.6, 1.2, 2.0 tried)
_DIGIT = re.compile(r"\d")
_PAST_SECTION = "取得历史性成就"
_PROBLEMS_SECTION = "面临问题和挑战"
_SCOPE_CLAUSE = re.compile(r"适用本(?:法|条例)|制定本(?:法|条例)")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Citation:
    n: int
    hit: Hit
    quote: str


@dataclass(frozen=True)
class Answer:
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    related: tuple[Citation, ...] = ()
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True)
class Scored:
    hit: Hit
    start: int
    end: int
    score: float

    @property
    def text(self) -> str:
        return self.hit.passage.text[self.start : self.end].strip()


def flat(text: str) -> str:
    """The text normalised and without whitespace, as question terms are matched against it."""
    return _WS.sub("", normalise(text))


@lru_cache(maxsize=1 << 15)
def _flat(text: str) -> str:
    # Cached: each candidate sentence is compared with the question's terms many times.
    return flat(text)


def coverage(text: str, terms: Sequence[str] | Sequence[Sequence[str]], idf: Mapping[str, float]) -> float:
    """Share of the question's content (weighted by rarity) that the text mentions.

    ``terms`` are words, or groups of interchangeable words of which any one will do.
    """
    if not terms:
        return 0.0
    flat = _flat(text)
    total = found = 0.0
    for term in terms:
        group = (term,) if isinstance(term, str) else tuple(term)
        weight = idf.get(group[0], 1.0)
        total += weight
        if any(alt in flat for alt in group):
            found += weight
    return found / total if total else 0.0


# What a sentence gains by giving the kind of value the question asks for (service/data/
# intents.toml, [[value]]): for 罚多少 the sentence with the fine, not its neighbour naming the
# offence. On the dev split 0 / 0.15 / 0.3 / 0.5 gave key facts 0.852 / 0.852 / 0.859 / 0.859
# and false abstention 0.007 / 0 / 0 / 0, hit@1 0.839 throughout.
VALUE_BONUS = 0.3
# What a sentence of a 法律责任 article gains when the question asks about a penalty (the
# counterpart of the malus it gets when the question asks about the duty): the article setting
# the fine restates the offence in the law's words, so it covers an everyday question's words
# less well than the article imposing the duty. On dev 0 / 0.2 / 0.4 / 0.7 / 1.0 / 1.5 gave hit@1
# 0.763 / 0.763 / 0.778 / 0.789 / 0.789 / 0.789 and key facts 0.814 / 0.814 / 0.835 / 0.845 /
# 0.845 / 0.845 (220 dev questions); 0.7 is where the plateau starts.
PENALTY_BONUS = 0.7
# And the mirror of the malus a penalty article gets on a question about a duty: an article
# outside 法律责任 loses this much on a question about a penalty (the duty it restates is not
# the fine). On dev (299 questions) 0 / 0.2 / 0.4 / 0.7 gave hit@1 0.773 / 0.777 / 0.777 /
# 0.777, key facts 0.834 / 0.838 / 0.838 / 0.838; 0.4 matches the malus on the other side.
DUTY_MALUS = 0.4
# And a sentence of the plan, on a question about a penalty the plan is not asked about: the
# plan sets no fines, the statutes do ("这样要是被查到，会怎么处理？" is answered by 法律责任, not
# by the plan's sentence on the same works). On dev 0.2 / 0.4 / 0.7 gave hit@1 0.825 → 0.829 /
# 0.832 / 0.832, hit@5 0.953 → 0.951 (one multi-part question's article left the top five).
PLAN_PENALTY_MALUS = 0.4


# What a sentence of the plan's review of 十三五 gains on a question about that period (规划回顾
# “十三五”…搞了啥行动): the tasks ahead name the same things without saying what was done. On dev
# 0.3 / 0.6 / 1.0 gave hit@1 0.835 / 0.837 / 0.837 and key facts 0.842 / 0.845 / 0.845.
PAST_BONUS = 0.6
# And a sentence of its 面临问题和挑战 on a question about what the plan admits is still wrong
# (有没有承认…这种毛病): the tasks name the same things as work to do. On dev 0.6 / 1.2 gave hit@1
# 0.840 / 0.840 and key facts 0.847 / 0.850 (from 0.837 / 0.845).
PROBLEMS_BONUS = 1.2


def act_terms(groups: Sequence[Sequence[str]], duty: str) -> list[Sequence[str]]:
    """The question's words that a duty's sentence shares with it: the act the asker describes,
    in the words the law uses for it (过度投药 beside 投药, not the scene's 鱼塘)."""
    described = _flat(duty)
    return [g for g in groups if any(alt in described for alt in g)]


def in_penalty_chapter(passage: Passage) -> bool:
    """An article of a law's 法律责任 chapter: where penalties are set."""
    return any("法律责任" in s for s in passage.section)


def score_sentences(query: Query, hits: Sequence[Hit], idf: Mapping[str, float]) -> list[Scored]:
    """Every sentence of the given passages, scored by weighted term overlap and passage rank."""
    groups = list(query.groups)
    asks_penalty = query.asks_penalty
    asks_current = query.period == "current"
    out: list[Scored] = []
    for hit in hits:
        if hit.passage.kind == "table_row":
            continue  # table rows answer through their structured record, not as prose
        in_review = any(_PAST_SECTION in s for s in hit.passage.section)
        if asks_current and in_review:
            continue  # what was achieved in 十三五 does not answer what 十四五 must do
        # Penalty articles answer questions about penalties; otherwise the duty itself does.
        in_penalties = in_penalty_chapter(hit.passage)
        penalty_malus = 0.4 if not asks_penalty and in_penalties else 0.0
        if asks_penalty and in_penalties:
            penalty_malus = -PENALTY_BONUS
        elif asks_penalty and hit.passage.kind == "article":
            penalty_malus = DUTY_MALUS
        elif asks_penalty and not query.asks_plan:
            penalty_malus = PLAN_PENALTY_MALUS
        text = hit.passage.text
        context = " ".join(hit.passage.section) + hit.passage.topic
        section_bonus = PAST_BONUS if query.period == "past" and in_review else 0.0
        if query.asks_problems and any(_PROBLEMS_SECTION in s for s in hit.passage.section):
            section_bonus += PROBLEMS_BONUS
        for s, e in sentences(text):
            sent = text[s:e]
            if len(sent.strip()) < 4:
                continue
            score = coverage(sent + context, groups, idf) + 0.6 * coverage(sent, groups, idf) - penalty_malus
            if _SCOPE_CLAUSE.search(sent) and not query.asks_scope:
                score -= 0.5  # "…适用本法": says where a law applies, not what it requires
            if len(sent) < 16 and hit.passage.topic == sent:
                score -= 0.5  # a bare topic line ("加大秸秆禁烧管控。") says nothing by itself
            if query.sector is not None and any(n in sent for n in query.sector.names):
                score += 0.3  # names the trade itself, not only its pollutants
            if (query.wants_number or query.wants_deadline) and _DIGIT.search(sent):
                score += 0.25
            if query.wants_deadline and re.search(r"20\d\d年(底|前|内)?", sent):
                score += 0.15
            if query.asked_value is not None and query.asked_value.gives.search(sent):
                score += VALUE_BONUS  # gives the kind of value asked for: 2天 for 几天, 罚款 amounts
            score += RANK_PRIOR / (hit.rank + 1) + section_bonus
            out.append(Scored(hit, s, e, score))
    out.sort(key=lambda x: -x.score)
    return out


# At most this many sentences, within ANSWER_CHARS: a fourth close to the best often holds the
# fact the first three leave out, and the character budget keeps the answer short (dev: key
# facts 0.827 → 0.835 over three, all else unchanged; a fifth added 0.002 and cost hit@5 0.002).
MAX_SENTENCES = 4


def pick_sentences(
    scored: Sequence[Scored], limit_chars: int = ANSWER_CHARS, max_n: int = MAX_SENTENCES
) -> list[Scored]:
    """The best sentence and those close to it, without repeating one another."""
    if not scored:
        return []
    best = scored[0].score
    chosen: list[Scored] = []
    used = 0
    for s in scored:
        if len(chosen) >= max_n or s.score < 0.7 * best:
            break
        if any(_flat(s.text) in _flat(c.text) or _flat(c.text) in _flat(s.text) for c in chosen):
            continue
        if chosen and used + len(s.text) > limit_chars:
            continue
        chosen.append(s)
        used += len(s.text)
    return chosen


def quote_for(hit: Hit, chosen: Sequence[Scored], scored: Sequence[Scored]) -> str:
    """The part of this passage the answer used (one span from its first to its last used
    sentence, so it stands verbatim in the passage), or its best sentence if none was used."""
    own = [c for c in chosen if c.hit.passage.id == hit.passage.id]
    text = hit.passage.text
    if own:
        return text[min(c.start for c in own) : max(c.end for c in own)].strip()
    for s in scored:
        if s.hit.passage.id == hit.passage.id:
            return s.text
    return text[:120]
