"""Where /api/ask spends its time: each stage of the pipeline over the gold questions, in-process.

.venv/bin/python -m bench.stages            # median and p95 per stage, cold pass and warm pass
.venv/bin/python -m bench.stages --write    # also update bench/results/latest.md

The stages are timed by wrapping the pipeline's functions from outside (no change to the code
under test): analysis, query embedding, each retrieval channel (dense and sentence vectors, BM25
with every call: question, everyday-wording and abbreviation expansions, law look-ups; character
n-grams), fusion (the rest of Searcher.rank), decide (screen + check), compose, render, and
building the response. The warm pass hits the searcher's recent-query vector cache. Needs a
built index (`planqa index`).
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.common import gold_questions, machine_line, pct, write_section

STAGES = [
    "analysis",
    "query embedding",
    "dense search",
    "sentence search",
    "bm25",
    "char n-grams",
    "fusion",
    "decide",
    "compose",
    "render",
    "response",
    "other",
    "total",
]


class StageTimer:
    """Inclusive seconds per wrapped callable, accumulated until reset."""

    def __init__(self) -> None:
        self.acc: dict[str, float] = defaultdict(float)

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        fn: Callable[..., Any] = getattr(owner, attr)
        acc = self.acc

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[label] += time.perf_counter() - t0

        setattr(owner, attr, timed)


def instrument(engine: Any) -> StageTimer:
    from service import decide, pipeline

    timer = StageTimer()
    qa, searcher = engine.qa, engine.searcher
    timer.wrap(pipeline, "analyse", "analyse")
    timer.wrap(pipeline, "compose", "compose")
    timer.wrap(pipeline, "render", "render")
    timer.wrap(decide, "screen", "decide")
    timer.wrap(decide, "check", "decide")
    timer.wrap(searcher.embedder, "embed", "embed")
    timer.wrap(searcher, "_dense_vec_ranking", "dense")
    timer.wrap(searcher, "_sentence_vec_ranking", "sentence")
    timer.wrap(searcher, "bm25_ranking", "bm25")
    timer.wrap(searcher, "char_ranking", "char")
    timer.wrap(searcher, "rank", "rank")
    timer.wrap(qa, "ask", "ask")
    return timer


def stages_ms(acc: dict[str, float], total: float) -> dict[str, float]:
    """Exclusive milliseconds per stage from the inclusive timings of one question."""
    a = defaultdict(float, acc)
    channels = a["embed"] + a["dense"] + a["sentence"] + a["bm25"] + a["char"]
    out = {
        "analysis": a["analyse"],
        "query embedding": a["embed"],
        "dense search": a["dense"],
        "sentence search": a["sentence"],
        "bm25": a["bm25"],
        "char n-grams": a["char"],
        "fusion": a["rank"] - channels,
        "decide": a["decide"],
        # compose calls rank for law look-ups; those count under the retrieval stages.
        "compose": a["compose"] - a["rank_in_compose"],
        "render": a["render"],
        "response": total - a["ask"],
        "total": total,
    }
    out["other"] = total - sum(v for k, v in out.items() if k != "total")
    return {k: v * 1000 for k, v in out.items()}


def run_pass(engine: Any, timer: StageTimer, questions: list[str]) -> dict[str, list[float]]:
    from service import pipeline

    per_stage: dict[str, list[float]] = defaultdict(list)
    inner_compose = pipeline.compose

    def compose(*args: Any, **kwargs: Any) -> Any:
        # Retrieval done inside compose (law lines) is counted apart from composing.
        before = timer.acc["rank"]
        try:
            return inner_compose(*args, **kwargs)
        finally:
            timer.acc["rank_in_compose"] += timer.acc["rank"] - before

    pipeline.compose = compose
    try:
        for q in questions:
            timer.acc.clear()
            t0 = time.perf_counter()
            engine.ask_payload(q)
            total = time.perf_counter() - t0
            for k, v in stages_ms(timer.acc, total).items():
                per_stage[k].append(v)
    finally:
        pipeline.compose = inner_compose
    return per_stage


def table(title: str, per_stage: dict[str, list[float]]) -> list[str]:
    lines = [f"**{title}** ({len(per_stage['total'])} questions)", ""]
    lines += ["| stage | median ms | p95 ms | max ms |", "|---|---|---|---|"]
    for s in STAGES:
        v = per_stage[s]
        lines.append(f"| {s} | {pct(v, 50):.2f} | {pct(v, 95):.2f} | {max(v):.2f} |")
    return lines


def search_timings(engine: Any, questions: list[str]) -> list[float]:
    ms = []
    for q in questions:
        t0 = time.perf_counter()
        engine.search_payload(q, 10, "hybrid")
        ms.append((time.perf_counter() - t0) * 1000)
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update bench/results/latest.md")
    args = parser.parse_args()
    from indexer.embed import prefer_passive_openmp

    prefer_passive_openmp()
    from service.engine import load_engine

    t0 = time.perf_counter()
    engine = load_engine(build_if_missing=False)
    load_s = time.perf_counter() - t0
    questions = gold_questions()
    timer = instrument(engine)
    machine = machine_line(str(engine.manifest.get("model_id")))
    cold = run_pass(engine, timer, questions)
    warm = run_pass(engine, timer, questions)
    search = search_timings(engine, questions)
    body = [
        "## In-process stages of /api/ask",
        "",
        machine,
        "",
        f"`python -m bench.stages` — engine loaded in {load_s:.1f} s; every gold question once "
        "on the fresh engine (cold: first-time caches included), then once more (warm).",
        "",
        *table("cold pass", cold),
        "",
        *table("warm pass", warm),
        "",
        f"Engine.search_payload (hybrid, top 10), warm: median {pct(search, 50):.2f} ms, "
        f"p95 {pct(search, 95):.2f} ms.",
    ]
    text = "\n".join(body)
    print(text)
    if args.write:
        write_section("stages", text)


if __name__ == "__main__":
    main()
