"""Loads the gold set, runs every requested mode over it and assembles the report dictionary."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import metrics
from .baselines import BASELINES
from .split import SPLITS, TAGS, split_of

if TYPE_CHECKING:
    from indexer.settings import Settings

    from .backends import Backend

SEARCH_MODES = ("bm25", "dense", "hybrid")
ANSWER_MODE = "answer"
PLANQA_MODES = (*SEARCH_MODES, ANSWER_MODE)
ALL_MODES = (*PLANQA_MODES, *BASELINES)
TYPES = ("indicator", "county", "sector", "deadline", "achievement", "paraphrase", "law", "unanswerable")
SEARCH_TOP_K = metrics.MAX_RANK  # hit@k is reported up to k = 10, so ten passages are needed
ASK_TOP_K = 5  # what /api/ask gives a user by default
REPORTED_PASSAGES = 5
SNIPPET_CHARS = 80  # enough to recognise a passage; keeps the committed report small
_REQUIRED = ("id", "type", "question")


class GoldError(ValueError):
    """The gold set cannot be read or an item is malformed."""


@dataclass(frozen=True)
class GoldItem:
    id: str
    type: str
    question: str
    evidence: tuple[str, ...] = ()
    doc_id: str = ""
    section: str = ""
    answer_facts: tuple[str, ...] = ()
    reference_answer: str = ""
    tags: tuple[str, ...] = ()

    @property
    def split(self) -> str:
        return split_of(self.id)


def _item(raw: Any, where: str) -> GoldItem:
    if not isinstance(raw, dict):
        raise GoldError(f"{where}: expected a JSON object")
    missing = [k for k in _REQUIRED if not raw.get(k)]
    if missing:
        raise GoldError(f"{where}: missing {', '.join(missing)}")
    if raw["type"] not in TYPES:
        raise GoldError(f"{where}: type {raw['type']!r} is not one of {', '.join(TYPES)}")
    for key in ("evidence", "answer_facts", "tags"):
        value = raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GoldError(f"{where}: {key} must be a list of strings")
    unknown = sorted(set(raw.get("tags") or ()) - TAGS)
    if unknown:
        raise GoldError(f"{where}: unknown tag(s) {', '.join(unknown)}; known: {', '.join(sorted(TAGS))}")
    return GoldItem(
        id=str(raw["id"]),
        type=str(raw["type"]),
        question=str(raw["question"]),
        evidence=tuple(raw.get("evidence") or ()),
        doc_id=str(raw.get("doc_id") or ""),
        section=str(raw.get("section") or ""),
        answer_facts=tuple(raw.get("answer_facts") or ()),
        reference_answer=str(raw.get("reference_answer") or ""),
        tags=tuple(raw.get("tags") or ()),
    )


def gold_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise GoldError(f"no *.jsonl gold files in {path}")
        return files
    if path.is_file():
        return [path]
    raise GoldError(f"gold path {path} does not exist")


def load_gold(path: Path) -> list[GoldItem]:
    items: list[GoldItem] = []
    seen: set[str] = set()
    for file in gold_files(path):
        for lineno, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file}:{lineno}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoldError(f"{where}: not valid JSON ({exc.msg})") from exc
            item = _item(raw, where)
            if item.id in seen:
                raise GoldError(f"{where}: duplicate id {item.id!r}")
            seen.add(item.id)
            items.append(item)
    if not items:
        raise GoldError(f"{path} holds no gold items")
    return items


def select_split(items: Sequence[GoldItem], split: str) -> list[GoldItem]:
    """Only the items of one split (``dev`` or ``test``), or all of them for ``all``."""
    if split == "all":
        return list(items)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: all, {', '.join(SPLITS)}")
    return [item for item in items if item.split == split]


def take(items: Sequence[GoldItem], limit: int | None) -> list[GoldItem]:
    """The first `limit` items, taken round-robin across types so a short run still sees each type."""
    if limit is None or limit >= len(items):
        return list(items)
    queues: dict[str, list[GoldItem]] = {}
    for item in items:
        queues.setdefault(item.type, []).append(item)
    picked: list[GoldItem] = []
    while len(picked) < limit:
        for queue in queues.values():
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


def parse_modes(text: str) -> list[str]:
    modes = list(dict.fromkeys(m.strip() for m in text.split(",") if m.strip()))
    unknown = [m for m in modes if m not in ALL_MODES]
    if unknown or not modes:
        raise ValueError(
            f"unknown mode(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(ALL_MODES)}"
        )
    return modes


def _snippet(p: dict[str, Any], rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "doc_id": p.get("doc_id", ""),
        "section": p.get("section", ""),
        "passage_id": p.get("passage_id", ""),
        "text": str(p.get("text", ""))[:SNIPPET_CHARS],
    }


def _score_one(mode: str, item: GoldItem, call: Callable[[], Any]) -> dict[str, Any]:
    gold = asdict(item)
    row: dict[str, Any] = {"type": item.type, "tags": list(item.tags), "split": item.split}
    started = time.perf_counter()
    try:
        out = call()
    except Exception as exc:  # one failing question must not sink the whole run
        row["latency_ms"] = (time.perf_counter() - started) * 1000.0
        row["error"] = f"{type(exc).__name__}: {exc}"
        # Scored as an empty result: a failure counts against every metric it touches.
        row.update(
            metrics.score_answer(gold, {}) if mode == ANSWER_MODE else metrics.score_passages(gold, [])
        )
        row["returned"] = []
        return row
    row["latency_ms"] = (time.perf_counter() - started) * 1000.0
    if mode == ANSWER_MODE:
        row.update(metrics.score_answer(gold, out))
        row["answer"] = out.get("answer", "")
        row["took_ms"] = out.get("took_ms")
        passages = list(out.get("citations") or [])
        row["quotes"] = [c.get("quote", "") for c in passages]
        row["related"] = [_snippet(p, i) for i, p in enumerate(out.get("related") or [], start=1)]
    else:
        passages = list(out)
        row.update(metrics.score_passages(gold, passages))
    # The metrics above saw every passage; the report keeps the top ones to stay small.
    row["returned"] = [_snippet(p, i) for i, p in enumerate(passages[:REPORTED_PASSAGES], start=1)]
    return row


def _mode_call(
    mode: str, item: GoldItem, backend: Backend | None, baselines: dict[str, Any]
) -> Callable[[], Any]:
    if mode in BASELINES:
        return lambda: baselines[mode].search(item.question, SEARCH_TOP_K)
    assert backend is not None
    if mode == ANSWER_MODE:
        return lambda: backend.ask(item.question, ASK_TOP_K)
    return lambda: backend.search(item.question, SEARCH_TOP_K, mode)


@contextmanager
def _planqa_backend(url: str | None, api_key: str | None, settings: Settings, needed: bool) -> Iterator[Any]:
    if not needed:
        yield None
        return
    from .backends import HttpBackend, InProcessBackend

    backend: Any = HttpBackend(url, api_key) if url else InProcessBackend(settings, api_key)
    with backend as entered:
        entered.check_ready()
        yield entered


class Hooks:
    """Progress callbacks; the default does nothing."""

    def mode_started(self, mode: str, total: int) -> None: ...

    def step(self, mode: str) -> None: ...

    def note(self, message: str) -> None: ...


def run(
    items: Sequence[GoldItem],
    modes: Sequence[str],
    settings: Settings,
    url: str | None = None,
    api_key: str | None = None,
    hooks: Hooks | None = None,
    backend: Backend | None = None,
) -> dict[str, Any]:
    """Score every mode on every item; returns the report dictionary (see report.write_report)."""
    hooks = hooks or Hooks()
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    with ExitStack() as stack:
        needs_planqa = any(m in PLANQA_MODES for m in modes) and backend is None
        backend = backend or stack.enter_context(_planqa_backend(url, api_key, settings, needs_planqa))
        baselines = _build_baselines([m for m in modes if m in BASELINES], settings, hooks)
        for mode in modes:
            hooks.mode_started(mode, len(items))
            # One untimed call first, so that lazy warm-up does not land in the latency figures.
            _score_one(mode, items[0], _mode_call(mode, items[0], backend, baselines))
            per_item: dict[str, dict[str, Any]] = {}
            for item in items:
                per_item[item.id] = _score_one(mode, item, _mode_call(mode, item, backend, baselines))
                hooks.step(mode)
            rows[mode] = per_item
    return assemble(items, modes, rows, target=url or "in-process", settings=settings)


def _build_baselines(names: Sequence[str], settings: Settings, hooks: Hooks) -> dict[str, Any]:
    if not names:
        return {}
    from .baselines import build_baseline, load_embeddings, read_raw_corpus

    embeddings = load_embeddings(settings)
    docs = read_raw_corpus(settings.corpus_dir)
    built = {}
    for name in names:
        started = time.perf_counter()
        built[name] = build_baseline(name, settings, embeddings, docs)
        hooks.note(f"{name}: {built[name].n_chunks} chunks indexed in {time.perf_counter() - started:.1f}s")
    return built


def assemble(
    items: Sequence[GoldItem],
    modes: Sequence[str],
    rows: dict[str, dict[str, dict[str, Any]]],
    target: str,
    settings: Settings | None = None,
) -> dict[str, Any]:
    aggregates = {}
    for mode in modes:
        mode_rows = list(rows[mode].values())
        aggregates[mode] = metrics.aggregate_views(mode_rows)
        aggregates[mode]["splits"] = {
            split: metrics.aggregate_views([r for r in mode_rows if r.get("split") == split])
            for split in SPLITS
        }
    questions = [{**asdict(item), "results": {m: rows[m][item.id] for m in modes}} for item in items]
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target,
        "modes": list(modes),
        "n_questions": len(items),
        "n_by_split": {split: sum(1 for i in items if i.split == split) for split in SPLITS},
        "search_top_k": SEARCH_TOP_K,
        "ask_top_k": ASK_TOP_K,
        "embedding_model": settings.embedding_model if settings is not None else "",
    }
    return {"meta": meta, "aggregates": aggregates, "questions": questions}
