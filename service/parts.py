"""Multi-part questions ("A和B分别是多少？") split into one sub-question per part.

The parts are the items joined by 和/与/及/以及/、 in the clause that carries the multi-part cue.
Each sub-question is the whole question with the other items taken out, so every part keeps the
context it shares with the others ("2025年", "的目标").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLAUSES = re.compile(r"[^，,；;。？?！!]+[，,；;。？?！!]?")
_JOIN = re.compile(r"以及|还有|和|与|及|、|跟|同")
# Where an item stops on the left: punctuation, a possessive or a place/time word before it.
_LEFT_STOP = re.compile(r"[，,；;。？?！!：:的年在对从给把让]")
# Where the last item stops on the right: the cue itself or what follows the subject.
_RIGHT_STOP = re.compile(r"分别|各|的|是|要|有|需|为|在|怎么|如何|哪些|什么|多少|[，,；;。？?！!]")


@dataclass(frozen=True)
class Part:
    label: str  # what this part is about: the joined item or the asking clause
    question: str


MAX_ITEM = 20
MAX_PARTS = 4
SHORT_FOLLOW_UP = 10  # characters besides the question words


def _items(clause: str) -> list[tuple[int, int]] | None:
    """Spans of the joined items in one clause, or None when the clause joins nothing."""
    joins = list(_JOIN.finditer(clause))
    if not joins:
        return None
    first, last = joins[0], joins[-1]
    left_stops = [m.end() for m in _LEFT_STOP.finditer(clause, 0, first.start())]
    start = left_stops[-1] if left_stops else 0
    right = _RIGHT_STOP.search(clause, last.end())
    end = right.start() if right else len(clause)
    if end <= last.end():
        return None
    spans = []
    at = start
    for m in joins:
        spans.append((at, m.start()))
        at = m.end()
    spans.append((at, end))
    if any(b - a < 1 or b - a > MAX_ITEM for a, b in spans):
        return None
    return spans


def split_parts(question: str, asks: re.Pattern[str] | None = None) -> tuple[Part, ...]:
    """Sub-questions, one per joined item; () when the question does not join several things.

    Without joined items, a question of several asking clauses (``asks`` finds a question word)
    is split into those clauses, each after the clauses that set the scene.
    """
    by_items = _split_items(question)
    if by_items or asks is None:
        return by_items
    clauses = [m.group(0) for m in _CLAUSES.finditer(question)]
    asking = [c for c in clauses if asks.search(c) or c.rstrip().endswith(("？", "?"))]
    if not 2 <= len(asking) <= MAX_PARTS:
        return ()
    scene = "".join(c for c in clauses[: clauses.index(asking[0])])
    parts = [Part(_label(asking[0]), f"{scene}{asking[0]}")]
    previous = clauses.index(asking[0])
    for c in asking[1:]:
        at = clauses.index(c, previous + 1)
        # The clauses between two asks ("到期还要继续排污的，") set the next one's scene.
        between = "".join(clauses[previous + 1 : at])
        previous = at
        # "过期了怎么办": a short follow-up speaks of the first clause's subject.
        own = asks.sub("", between + c)
        lead = "" if len(own) >= SHORT_FOLLOW_UP else asking[0]
        parts.append(Part(_label(c), f"{scene}{lead}{between}{c}"))
    return tuple(parts)


def _label(clause: str) -> str:
    return clause.strip().rstrip("，,；;。？?！!")


def _split_items(question: str) -> tuple[Part, ...]:

    offset = 0
    for m in _CLAUSES.finditer(question):
        clause = m.group(0)
        spans = _items(clause)
        if spans and 2 <= len(spans) <= MAX_PARTS:
            start, end = spans[0][0] + offset, spans[-1][1] + offset
            items = [question[a + offset : b + offset].strip() for a, b in spans]
            return tuple(Part(item, f"{question[:start]}{item}{question[end:]}") for item in items if item)
        offset += len(clause)
    return ()
