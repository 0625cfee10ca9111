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


def _chunks(texts: list[str], size: int, longest_first: bool) -> list[list[str]]:
    ordered = sorted(texts, key=len, reverse=True) if longest_first else texts
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def passages_per_s(backend: str, texts: list[str], threads: int, workers: int, sort: bool) -> float:
    """The way a build embeds: chunks in one process, or spread over ``workers`` processes."""
    from indexer.cache import CHUNK
    from indexer.embed import clear_embedder_cache, load_embedder
    from indexer.embed_pool import EmbedPool, settings_loader
    from indexer.settings import get_settings

    settings = get_settings().model_copy(update={"embedding_backend": backend, "embed_threads": threads})
    chunks = _chunks(texts, CHUNK if sort else settings.embed_batch_size, sort)
    embedder = load_embedder(settings)
    try:
        if workers > 1:
            with EmbedPool(settings_loader(settings), workers, embedder.model_id) as pool:
                list(pool.map([texts[:8]] * workers))  # every worker loaded before the clock starts
                t0 = time.perf_counter()
                list(pool.map(chunks))
                return len(texts) / (time.perf_counter() - t0)
        embedder.embed(texts[:16], kind="passage")  # warm-up: first runs allocate
        t0 = time.perf_counter()
        for chunk in chunks:
            embedder.embed(chunk, kind="passage")
        return len(texts) / (time.perf_counter() - t0)
    finally:
        clear_embedder_cache()


def query_ms(backend: str, queries: list[str], threads: int) -> tuple[float, float, float]:
    from indexer.embed import clear_embedder_cache, load_embedder
    from indexer.settings import get_settings

    settings = get_settings().model_copy(update={"embedding_backend": backend, "embed_threads": threads})
    t0 = time.perf_counter()
    embedder = load_embedder(settings)
    load_s = time.perf_counter() - t0
    for q in queries[:5]:
        embedder.embed([q], kind="query")
    ms = []
    for q in queries:
        t0 = time.perf_counter()
        embedder.embed([q], kind="query")
        ms.append((time.perf_counter() - t0) * 1000)
    clear_embedder_cache()
    return load_s, pct(ms, 50), pct(ms, 95)


# (label, processes, sorted): the old build (corpus order, batches of 16, one process), sorted
# chunks in one process, and sorted chunks over one single-threaded process per CPU.
WAYS = (("corpus order, batches of 16, 1 process", 1, False), ("longest first, 1 process", 1, True))


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
    from indexer.embed import usable_cpus

    cpus = usable_cpus()
    ways = [*WAYS, (f"longest first, {cpus} processes × 1 thread", cpus, True)]
    rows, base = [], None
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        load_s, q50, q95 = query_ms(backend, queries, args.threads)
        for label, workers, sort in ways:
            load = machine_line().split("load average ")[1].split(",")[0]
            threads = 1 if workers > 1 else args.threads
            rate = passages_per_s(backend, texts, threads, workers, sort)
            base = base or (rate if backend == "torch" else None)
            speedup = f"{rate / base:.1f}×" if base else "–"
            rows.append(
                f"| {backend} | {label} | {rate:.1f} | {speedup} | {q50:.1f} | {q95:.1f} | {load_s:.1f} "
                f"| {load} |"
            )
            print(rows[-1], flush=True)
    mean_chars = sum(map(len, texts)) // len(texts)
    body = "\n".join(
        [
            "## Embedding speed",
            "",
            machine_line("multilingual-e5-small"),
            "",
            f"`python -m bench.embed_speed` — {len(texts)} corpus passages ({mean_chars} "
            f'characters on average), {len(queries)} gold questions one at a time. "vs torch" is against '
            "torch the way builds embedded before (first row). A build now embeds longest first in "
            "chunks of 128, over one single-threaded process per CPU once it has 1,000 texts to embed.",
            "",
            "| backend | how | passages/s | vs torch | query p50 ms | query p95 ms | load s "
            "| load avg before |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    print(body)
    if args.write:
        write_section("embed", body)


if __name__ == "__main__":
    main()
