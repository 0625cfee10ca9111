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
    own: str = ""  # the part without the scene all parts share; "" when it has none


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


def asking_clauses(clauses: list[str], asks: re.Pattern[str]) -> list[int]:
    """Positions of the clauses that ask something.

    When the question has a question mark, only its question sentences ask: a sentence that ends
    with 。 or ！ sets the scene ("这几年明显感觉蓝天多了。"), whatever words it contains. In a
    question sentence the clauses with a question word ask, or else its last clause.
    """
    if not any(c.rstrip().endswith(("？", "?")) for c in clauses):
        return [i for i, c in enumerate(clauses) if asks.search(c)]
    out: list[int] = []
    sentence: list[int] = []
    for i, c in enumerate(clauses):
        sentence.append(i)
        end = c.rstrip()[-1:] if c.strip() else ""
        last = i == len(clauses) - 1
        if end in "？?" or (last and end not in "。！!"):
            askers = [j for j in sentence if asks.search(clauses[j])]
            out.extend(askers or sentence[-1:])
        if end in "。！!？?" or last:
            sentence = []
    return out


def split_parts(
    question: str, asks: re.Pattern[str] | None = None, scene: re.Pattern[str] | None = None
) -> tuple[Part, ...]:
    """Sub-questions of a question that asks several things; () when it asks one.

    Several asking clauses ("有效期几年？要提前多久申请延续？") become one part each, after the
    clauses that set the scene. A single asking clause that joins items ("A和B分别是多少？")
    becomes one part per item; clauses that only set the scene are never split into items.
    """
    clauses = [m.group(0) for m in _CLAUSES.finditer(question)]
    asking = asking_clauses(clauses, asks) if asks is not None else list(range(len(clauses)))
    if asks is not None and 2 <= len(asking) <= MAX_PARTS:
        return _split_clauses(clauses, asking, asks, scene)
    return _split_items(clauses, set(asking))


def _split_clauses(
    clauses: list[str], asking: list[int], asks: re.Pattern[str], scene_cue: re.Pattern[str] | None
) -> tuple[Part, ...]:
    first = asking[0]
    scene = "".join(clauses[:first])
    parts = [Part(_label(clauses[first]), f"{scene}{clauses[first]}", clauses[first] if scene else "")]
    previous = first
    for at in asking[1:]:
        c = clauses[at]
        # The clauses between two asks ("到期还要继续排污的，") set the next one's scene.
        between = "".join(clauses[previous + 1 : at])
        previous = at
        # "过期了怎么办": a short follow-up speaks of the first clause's subject. Unless the
        # asker first sets a scene of their own ("我们公司拿了块地，"), the first clause is where
        # the subject is named, so a longer part keeps it too ("…各自要把联单保存多少年？" after
        # "危险废物转移联单一式几联？"), without the first clause's question words.
        own = asks.sub("", between + c)
        if len(own) < SHORT_FOLLOW_UP:
            lead = clauses[first]
        elif scene_cue is None or not scene_cue.search(scene):
            lead = asks.sub("", clauses[first]).rstrip("，,；;。？?！!") + "，"
        else:
            lead = ""
        parts.append(Part(_label(c), f"{scene}{lead}{between}{c}", f"{lead}{between}{c}" if scene else ""))
    return tuple(parts)


def _label(clause: str) -> str:
    return clause.strip().rstrip("，,；;。？?！!")


def _split_items(clauses: list[str], asking: set[int]) -> tuple[Part, ...]:
    question = "".join(clauses)
    offset = 0
    for i, clause in enumerate(clauses):
        spans = _items(clause) if i in asking else None
        if spans and 2 <= len(spans) <= MAX_PARTS:
            start, end = spans[0][0] + offset, spans[-1][1] + offset
            items = [question[a + offset : b + offset].strip() for a, b in spans]
            return tuple(Part(item, f"{question[:start]}{item}{question[end:]}") for item in items if item)
        offset += len(clause)
    return ()
