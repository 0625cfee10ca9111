"""Scoring of one question's results and aggregation over many. Pure functions, no I/O.

Texts are compared after NFKC normalisation with every whitespace character removed, so
full-width/half-width variants, line breaks from PDF extraction and stray spaces do not decide
whether a passage "contains" a gold evidence string.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_RANK = 10
# Overlapping chunkers repeat the tail of one chunk at the head of the next; joining two such
# chunks naively duplicates the overlap and hides evidence that runs across the seam.  Only
# overlaps at least this long are merged, so that two unrelated passages that happen to share a
# character or two are not spliced into a fake match.
MIN_SEAM_OVERLAP = 8


def normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _seam_overlap(left: str, right: str) -> int:
    """Length of the longest suffix of `left` that is also a prefix of `right`."""
    for size in range(min(len(left), len(right)), MIN_SEAM_OVERLAP - 1, -1):
        if left.endswith(right[:size]):
            return size
    return 0


def _joined(left: str, right: str) -> list[str]:
    joins = [left + right]
    overlap = _seam_overlap(left, right)
    if overlap:
        joins.append(left + right[overlap:])
    return joins


def _contains_any(text: str, evidence: Sequence[str]) -> bool:
    return any(ev and ev in text for ev in evidence)


def first_hit_rank(texts: Sequence[str], evidence: Iterable[str], max_rank: int = MAX_RANK) -> int | None:
    """1-based rank at which the returned texts first contain a gold evidence string.

    A hit is a text that contains any evidence, or two returned texts whose concatenation (in
    either order) contains it — evidence split across adjacent passages.  The split case counts
    at the rank of the later of the two, since only then have both been returned.
    """
    ev = [e for e in (normalise(x) for x in evidence) if e]
    if not ev:
        return None
    seen: list[str] = []
    for rank, raw in enumerate(texts[:max_rank], start=1):
        text = normalise(raw)
        if _contains_any(text, ev):
            return rank
        for earlier in seen:
            joins = _joined(earlier, text) + _joined(text, earlier)
            if any(_contains_any(j, ev) for j in joins):
                return rank
        seen.append(text)
    return None


def contains_evidence(texts: Sequence[str], evidence: Iterable[str]) -> bool:
    return first_hit_rank(texts, evidence, max_rank=len(texts)) is not None


def hit_at(rank: int | None, k: int) -> float:
    return 1.0 if rank is not None and rank <= k else 0.0


def reciprocal_rank(rank: int | None, cutoff: int = MAX_RANK) -> float:
    return 1.0 / rank if rank is not None and rank <= cutoff else 0.0


def section_match(cited: Iterable[str], gold: str) -> bool:
    target = normalise(gold)
    return bool(target) and any(normalise(s) == target for s in cited)


def fact_scores(text: str, facts: Sequence[str]) -> tuple[float, float] | None:
    """(all facts present as 0/1, share of facts present), or None when there are no facts."""
    wanted = [f for f in (normalise(x) for x in facts) if f]
    if not wanted:
        return None
    body = normalise(text)
    found = sum(1 for f in wanted if f in body)
    return (1.0 if found == len(wanted) else 0.0, found / len(wanted))


def precision_recall(predicted: Sequence[bool], actual: Sequence[bool]) -> tuple[float | None, float | None]:
    """Precision and recall of a binary decision; None where the denominator is empty."""
    tp = sum(1 for p, a in zip(predicted, actual, strict=True) if p and a)
    pred_pos = sum(1 for p in predicted if p)
    act_pos = sum(1 for a in actual if a)
    precision = tp / pred_pos if pred_pos else None
    recall = tp / act_pos if act_pos else None
    return precision, recall


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in [0, 100]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def score_retrieval(texts: Sequence[str], evidence: Sequence[str]) -> dict[str, Any]:
    """Per-question retrieval fields; `rank` is None both for a miss and for no evidence."""
    if not any(normalise(e) for e in evidence):
        return {"scored_retrieval": False, "rank": None}
    rank = first_hit_rank(texts, evidence)
    return {"scored_retrieval": True, "rank": rank}


def score_answer(item: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """Scores of one /api/ask response against one gold item."""
    citations = list(payload.get("citations") or [])
    evidence = list(item.get("evidence") or [])
    result = score_retrieval([c.get("text", "") for c in citations], evidence)
    has_evidence = result["scored_retrieval"]
    quotes = [c.get("quote") or "" for c in citations]
    result["quote_hit"] = contains_evidence(quotes, evidence) if has_evidence else None
    gold_section = str(item.get("section") or "")
    result["section_hit"] = (
        section_match([c.get("section", "") for c in citations], gold_section) if gold_section else None
    )
    facts = fact_scores(str(payload.get("answer") or ""), list(item.get("answer_facts") or []))
    result["keyfact"], result["fact_recall"] = facts if facts else (None, None)
    result["abstained"] = bool(payload.get("abstained"))
    return result


def score_passages(item: Mapping[str, Any], passages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Scores of a ranked passage list; the answer stand-in is the top passage's text."""
    result = score_retrieval([p.get("text", "") for p in passages], list(item.get("evidence") or []))
    top = str(passages[0].get("text", "")) if passages else ""
    facts = fact_scores(top, list(item.get("answer_facts") or []))
    result["keyfact"], result["fact_recall"] = facts if facts else (None, None)
    return result


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate per-question results of one mode. Metrics with no eligible question are None."""
    ranked = [r for r in rows if r.get("scored_retrieval")]
    ranks = [r.get("rank") for r in ranked]
    out: dict[str, Any] = {"n": len(rows), "n_retrieval": len(ranked)}
    out["hit@1"] = _mean([hit_at(k, 1) for k in ranks])
    out["hit@5"] = _mean([hit_at(k, 5) for k in ranks])
    out["mrr"] = _mean([reciprocal_rank(k) for k in ranks])
    out["hit_curve"] = [_mean([hit_at(r, k) for r in ranks]) for k in range(1, MAX_RANK + 1)] if ranks else []

    with_facts = [r for r in rows if r.get("keyfact") is not None]
    out["n_facts"] = len(with_facts)
    out["keyfact_acc"] = _mean([r["keyfact"] for r in with_facts])
    out["fact_recall"] = _mean([r["fact_recall"] for r in with_facts])

    quoted = [r for r in rows if r.get("quote_hit") is not None]
    out["quote_acc"] = _mean([1.0 if r["quote_hit"] else 0.0 for r in quoted])
    sectioned = [r for r in rows if r.get("section_hit") is not None]
    out["section_acc"] = _mean([1.0 if r["section_hit"] else 0.0 for r in sectioned])

    decided = [r for r in rows if r.get("abstained") is not None]
    if decided:
        precision, recall = precision_recall(
            [bool(r["abstained"]) for r in decided], [r.get("type") == "unanswerable" for r in decided]
        )
    else:
        precision, recall = None, None
    out["abstain_precision"], out["abstain_recall"] = precision, recall
    # Declining a question the documents do answer: the other half of abstention quality.
    answerable = [r for r in decided if r.get("type") != "unanswerable"]
    out["false_abstain"] = _mean([1.0 if r["abstained"] else 0.0 for r in answerable])

    latencies = [float(r["latency_ms"]) for r in rows if r.get("latency_ms") is not None]
    out["latency_p50_ms"] = percentile(latencies, 50)
    out["latency_p95_ms"] = percentile(latencies, 95)
    out["errors"] = sum(1 for r in rows if r.get("error"))
    return out


def aggregate_by_type(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    types = sorted({str(r.get("type", "")) for r in rows})
    return {t: aggregate([r for r in rows if r.get("type") == t]) for t in types}


def aggregate_by_tag(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    tags = sorted({str(t) for r in rows for t in r.get("tags") or ()})
    return {t: aggregate([r for r in rows if t in (r.get("tags") or ())]) for t in tags}


def aggregate_views(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Overall, per-type and per-tag aggregates of one set of rows."""
    return {"overall": aggregate(rows), "by_type": aggregate_by_type(rows), "by_tag": aggregate_by_tag(rows)}


def question_quality(row: Mapping[str, Any]) -> float | None:
    """One number in [0, 1] per question and mode, used only to rank the worst questions."""
    parts: list[float] = []
    if row.get("scored_retrieval"):
        parts.append(reciprocal_rank(row.get("rank")))
    if row.get("keyfact") is not None:
        parts.append(float(row["keyfact"]))
    if row.get("abstained") is not None:
        parts.append(1.0 if bool(row["abstained"]) == (row.get("type") == "unanswerable") else 0.0)
    if row.get("error"):
        parts.append(0.0)
    return _mean(parts)
