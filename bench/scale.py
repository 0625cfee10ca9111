"""The knowledge base at 1x, 10x and the whole law library beside the served corpus.

For each size a fresh data directory is seeded with the shipped corpus, then law-library files
(a fixed shuffled order) are added with `planqa add DIR` until the passages reach the size.
Printed per size: documents, passages, cold build (add + index, empty embedding cache) and warm
rebuild (`planqa index --force`, every vector cached) with their peak RSS, index and cache size
on disk, `/api/search` and `/api/ask` p50 / p95 over the gold questions on a real server, the
server's RSS, and hit@5 of the gold questions (`planqa eval`): more documents must not drown the
plan.

    .venv/bin/python -m bench.scale --library ../shared/corpus-sources/scale/law-library.tar.xz
    .venv/bin/python -m bench.scale --library DIR --sizes 1,10 --backend onnx --write
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import ROOT, gold_questions, machine_line, pct, write_section

PLANQA = [sys.executable, "-m", "service.cli"]


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    output: str


def _run(cmd: list[str], env: dict[str, str]) -> Run:
    """One command to completion; its own peak RSS from wait4 (not the sum over earlier children)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    out = proc.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-3000:]}")
    # ru_maxrss of the child alone; embedding workers are its children and are not counted here.
    return Run(time.perf_counter() - t0, usage.ru_maxrss / 1024, out)


def library_dir(source: Path, scratch: Path) -> Path:
    """The unpacked library: ``source`` itself, or the tarball unpacked once under ``scratch``."""
    if source.is_dir():
        return source
    target = scratch / "library"
    if not (target / ".unpacked").is_file():
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with tarfile.open(source) as tar:
            tar.extractall(target, filter="data")
        (target / ".unpacked").touch()
    return target


def library_files(directory: Path) -> list[tuple[Path, int]]:
    """Library files that parse, with their passage counts, in a fixed shuffled order."""
    from indexer.errors import PlanqaError
    from indexer.extract import FORMATS, extract
    from indexer.metadata import build_meta
    from indexer.structure import parse_structure

    files = sorted(
        p for p in directory.rglob("*") if p.suffix.lower() in FORMATS and not p.name.startswith("_")
    )
    random.Random(0).shuffle(files)
    out = []
    for path in files:
        data = path.read_bytes()
        try:
            extracted = extract(path.name, data)
            doc, _ = parse_structure(
                build_meta("d", path.name, data, extracted), extracted.text, extracted.reflow
            )
        except PlanqaError:
            continue
        out.append((path, len(doc.passages)))
    return out


def pick(files: list[tuple[Path, int]], passages: int) -> list[Path]:
    chosen, total = [], 0
    for path, n in files:
        if total >= passages:
            break
        chosen.append(path)
        total += n
    return chosen


def _du_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def latency(url: str, questions: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    with httpx.Client(base_url=url, timeout=120) as client:
        for path, body in (("/api/search", "query"), ("/api/ask", "question")):
            for q in questions[:10]:  # warm-up
                client.post(path, json={body: q})
            ms = []
            for q in questions:
                t0 = time.perf_counter()
                client.post(path, json={body: q}).raise_for_status()
                ms.append((time.perf_counter() - t0) * 1000)
            out[f"{path}:p50"], out[f"{path}:p95"] = pct(ms, 50), pct(ms, 95)
    return out


def hit_at_5(env: dict[str, str], out: Path) -> dict[str, float]:
    _run([*PLANQA, "eval", "--modes", "answer,hybrid", "--split", "all", "--out", str(out)], env)
    agg = json.loads((out / "report.json").read_text(encoding="utf-8"))["aggregates"]
    hits = {mode: float(agg[mode]["overall"]["hit@5"]) for mode in ("answer", "hybrid")}
    hits["answer@1"] = float(agg["answer"]["overall"]["hit@1"])
    return hits


def seed_passages() -> int:
    from indexer.corpus import load_corpus
    from indexer.settings import get_settings

    return len(load_corpus(get_settings().corpus_dir).passages)


def measure(
    size: str,
    files: list[tuple[Path, int]],
    root: Path,
    base_env: dict[str, str],
    seed: int,
    reuse: bool = False,
) -> dict[str, object]:
    """One size's row. With ``reuse`` a data directory an earlier run left is kept and the cold
    build skipped (its columns read "—"): for measuring start-up, rebuild and search after a
    change that does not touch what the cold build embeds, without an hour of embedding."""
    from bench.http_load import serve

    data = root / f"x{size}"
    env = {**base_env, "PLANQA_DATA_DIR": str(data / "data")}
    cold: Run | None = None
    if not (reuse and (data / "data" / "index" / "CURRENT").is_file()):
        shutil.rmtree(data, ignore_errors=True)
        subset = data / "incoming"
        subset.mkdir(parents=True)
        target = 10**9 if size == "full" else seed * (int(size) - 1)
        chosen = pick(files, target)
        for i, path in enumerate(chosen):  # flat, unique names; the store keeps its own copies
            (subset / f"{i:05d}-{path.name}").symlink_to(path.resolve())
        # 1x is the shipped corpus alone: nothing to add, the first build seeds nothing either.
        # The library is a reference tier beside the plan and its laws (indexer/data/fusion.toml).
        add = [*PLANQA, "add", str(subset), "--tier", "reference"]
        cold = _run(add if chosen else [*PLANQA, "index"], env)
    warm = _run([*PLANQA, "index", "--force"], env)
    index_dir = data / "data" / "index"
    live = index_dir / "generations" / (index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    row: dict[str, object] = {
        "size": size,
        "documents": manifest["documents"],
        "passages": manifest["passages"],
        "sentences": manifest.get("sentences", 0),
        "cold_s": cold.seconds if cold else None,
        "cold_rss": cold.peak_rss_mb if cold else None,
        "warm_s": warm.seconds,
        "warm_rss": warm.peak_rss_mb,
        "index_mb": _du_mb(live),
        "cache_mb": _du_mb(data / "data" / "cache"),
    }
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        with serve(1, data, split_threads=False) as server:
            row.update(latency(server.url, gold_questions()))
            row["ready_s"] = server.ready_s
            row["server_rss"] = max(server.rss_mb())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    row.update({f"hit5:{k}": v for k, v in hit_at_5(env, data / "eval").items()})
    print(json.dumps(row), flush=True)
    return row


def table(rows: list[dict[str, object]], note: str) -> str:
    head = (
        "| size | documents | passages | sentences | cold build | peak RSS | warm rebuild | peak RSS "
        "| index / cache on disk | start to ready | search p50 / p95 | ask p50 / p95 | server RSS "
        "| hit@5 answer / hybrid | answer hit@1 |\n" + "|---" * 15 + "|\n"
    )
    lines = []
    for r in rows:

        def f(key: str, fmt: str = "{:.0f}", row: dict[str, object] = r) -> str:
            return "—" if row[key] is None else fmt.format(row[key])

        label = "full" if r["size"] == "full" else f"{r['size']}×"
        lines.append(
            f"| {label} | {r['documents']} | {r['passages']} | {r['sentences']} | {f('cold_s')} s "
            f"| {f('cold_rss')} MB | {f('warm_s')} s | {f('warm_rss')} MB "
            f"| {f('index_mb')} / {f('cache_mb')} MB | {f('ready_s', '{:.1f}')} s "
            f"| {f('/api/search:p50')} / {f('/api/search:p95')} ms "
            f"| {f('/api/ask:p50')} / {f('/api/ask:p95')} ms "
            f"| {f('server_rss')} MB | {f('hit5:answer', '{:.3f}')} / {f('hit5:hybrid', '{:.3f}')} "
            f"| {f('hit5:answer@1', '{:.3f}')} |"
        )
    return head + "\n".join(lines) + "\n\n" + note


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--library", type=Path, required=True, help="law-library.tar.xz or its unpacked directory"
    )
    parser.add_argument("--sizes", default="1,10,full", help="multiples of the served corpus, or full")
    parser.add_argument("--backend", default="", help="PLANQA_EMBEDDING_BACKEND for every step")
    parser.add_argument("--root", type=Path, default=ROOT / "var" / "scale", help="scratch data directories")
    parser.add_argument("--write", action="store_true", help="update bench/results/latest.md")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a size's data directory from an earlier run; skip its cold build",
    )
    args = parser.parse_args()
    env = dict(os.environ)
    if args.backend:
        env["PLANQA_EMBEDDING_BACKEND"] = args.backend
    env.setdefault("PLANQA_MODEL_CACHE_DIR", str(ROOT / "var" / "models"))  # converted model, shared
    args.root.mkdir(parents=True, exist_ok=True)
    files = library_files(library_dir(args.library, args.root))
    header = machine_line(f"backend {env.get('PLANQA_EMBEDDING_BACKEND', 'auto')}")
    print(header, flush=True)
    seed = seed_passages()
    rows = [measure(size.strip(), files, args.root, env, seed, args.reuse) for size in args.sizes.split(",")]
    note = (
        f"`python -m bench.scale --sizes {args.sizes}"
        + (f" --backend {args.backend}" if args.backend else "")
        + "`. Cold build: `planqa add` of the library files (store ingest, then the index with an "
        "empty embedding cache); warm: `planqa index --force` with every vector cached. Peak RSS "
        "is the building process's; embedding workers come on top. Latency: every gold question "
        "once, one at a time, on one server worker. hit@5 over all gold questions."
    )
    body = f"## Scale: the law library beside the served corpus\n\n{header}\n\n{table(rows, note)}\n"
    print(body)
    if args.write:
        write_section("scale", body)


if __name__ == "__main__":
    main()
