"""Embedding speed per backend: passages/s on the real corpus texts, ms per query on gold questions.

.venv/bin/python -m bench.embed_speed                       # torch, onnx-fp32, onnx (int8)
.venv/bin/python -m bench.embed_speed --backends onnx --passages 200 --write
"""

from __future__ import annotations

import argparse
import time

from bench.common import gold_questions, machine_line, pct, write_section


def _passage_texts(limit: int) -> list[str]:
    from indexer.corpus import index_text, load_corpus
    from indexer.settings import get_settings

    passages = load_corpus(get_settings().corpus_dir).passages
    step = max(1, len(passages) // limit) if limit else 1
    return [index_text(p) for p in passages[::step]][: limit or None]


def measure(backend: str, texts: list[str], queries: list[str], threads: int) -> dict[str, float]:
    from indexer.embed import clear_embedder_cache, load_embedder
    from indexer.settings import get_settings

    settings = get_settings().model_copy(update={"embedding_backend": backend, "embed_threads": threads})
    t0 = time.perf_counter()
    embedder = load_embedder(settings)
    load_s = time.perf_counter() - t0
    embedder.embed(texts[:16], kind="passage")  # warm-up: first runs allocate
    t0 = time.perf_counter()
    batch = settings.embed_batch_size
    for start in range(0, len(texts), batch):  # the batches an index build uses
        embedder.embed(texts[start : start + batch], kind="passage")
    per_s = len(texts) / (time.perf_counter() - t0)
    for q in queries[:5]:
        embedder.embed([q], kind="query")
    ms = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.embed([q], kind="query")
        ms.append((time.perf_counter() - t0) * 1000)
    clear_embedder_cache()
    return {"load_s": load_s, "passages_s": per_s, "q_p50": pct(ms, 50), "q_p95": pct(ms, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="torch,onnx-fp32,onnx")
    parser.add_argument("--passages", type=int, default=400, help="passages to embed (0 = all)")
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads (0 = all CPUs)")
    parser.add_argument("--write", action="store_true", help="update bench/results/latest.md")
    args = parser.parse_args()
    from indexer.embed import prefer_passive_openmp

    prefer_passive_openmp()
    texts, queries = _passage_texts(args.passages), gold_questions()
    rows, base = [], None
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        load = machine_line().split("load average ")[1].split(",")[0]
        r = measure(backend, texts, queries, args.threads)
        base = base or (r["passages_s"] if backend == "torch" else None)
        speedup = f"{r['passages_s'] / base:.1f}×" if base else "–"
        rows.append(
            f"| {backend} | {r['passages_s']:.1f} | {speedup} | {r['q_p50']:.1f} | {r['q_p95']:.1f} "
            f"| {r['load_s']:.1f} | {load} |"
        )
        print(rows[-1], flush=True)
    body = "\n".join(
        [
            "## Embedding speed",
            "",
            machine_line("multilingual-e5-small"),
            "",
            f"`python -m bench.embed_speed` — {len(texts)} corpus passages in batches of 16, "
            f"{len(queries)} gold questions one at a time.",
            "",
            "| backend | passages/s | vs torch | query p50 ms | query p95 ms | load s | load avg before |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if args.write:
        write_section("embed", body)


if __name__ == "__main__":
    main()
