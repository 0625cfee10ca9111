"""Peak memory of an index build, stage by stage, at 1x, 10x and the whole law library.

Each size is built in a child process of its own (so one size's heap never inflates the
next) into a scratch data directory, from the shipped corpus plus law-library files as a
reference tier, the same subsets `bench.scale` uses. The embedder is a deterministic hash
embedder of the real model's dimension: the figures are the build pipeline's own (corpus,
vectors, BM25 matrices, writers), without the model runtime, which adds a constant of about
450 MB per process (ONNX fp32 + int8, measured by `bench.scale` at each size).

A sampling thread reads the process RSS every 50 ms together with the build stage on the
main thread's stack (the artefact writer running), so the table shows which stage sets the
peak.

    .venv/bin/python -m bench.build_memory --library ../shared/corpus-sources/scale/law-library.tar.xz
    .venv/bin/python -m bench.build_memory --library DIR --sizes 1,10,full --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common import ROOT, machine_line, write_section

# The artefact writer running (the outermost one on the stack: sentence vectors are embedded
# inside theirs), else a step outside the writers (all of embedding, before writers embedded).
WRITERS = (
    "_write_dense",
    "_write_sparse",
    "_write_passage_ids",
    "build_channels",
    "write_char",
    "write_sentences",
    "write_abbreviations",
)
OTHER_STEPS = ("embed_with_cache", "publish")
STAGES = (*WRITERS, *OTHER_STEPS)


class HashEmbedder:
    """Unit vectors seeded by each text's hash: the shape and cost of real vectors, no model."""

    model_id = "bench-hash-384"
    dim = 384

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def _stage(frame: object) -> str:
    names = []
    while frame is not None:
        names.append(frame.f_code.co_name)  # type: ignore[attr-defined]
        frame = frame.f_back  # type: ignore[attr-defined]
    writers = [n for n in names if n in WRITERS]
    if writers:
        return writers[-1]
    return next((n for n in names if n in OTHER_STEPS), "other")


def child(size: str, library: Path, scratch: Path) -> dict[str, object]:
    """Builds one size in this process and returns its figures (run through ``--child``)."""
    import psutil

    from bench.scale import library_files, pick, seed_passages
    from indexer.corpus import Corpus, load_corpus
    from indexer.extract import extract
    from indexer.metadata import build_meta
    from indexer.settings import Settings, get_settings
    from indexer.store import build_index
    from indexer.structure import parse_structure

    proc = psutil.Process()
    peaks: dict[str, float] = {}
    main = threading.main_thread().ident
    running = True

    def sample() -> None:
        while running:
            rss = proc.memory_info().rss / 2**20
            frame = sys._current_frames().get(main or 0)
            stage = _stage(frame)
            peaks[stage] = max(peaks.get(stage, 0.0), rss)
            time.sleep(0.05)

    base = load_corpus(get_settings().corpus_dir)
    files = library_files(library)
    target = 10**9 if size == "full" else seed_passages() * (int(size) - 1)
    docs = list(base.documents)
    for i, path in enumerate(pick(files, target)):
        data = path.read_bytes()
        extracted = extract(path.name, data)
        meta = build_meta(f"lib-{i:05d}", path.name, data, extracted, tier="reference")
        docs.append(parse_structure(meta, extracted.text, extracted.reflow)[0])
    corpus = Corpus(tuple(docs), base.indicators, f"bench-{size}")
    del base, files, docs
    corpus_rss = proc.memory_info().rss / 2**20
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    settings = Settings(data_dir=scratch, embed_workers=1)
    manifest = build_index(settings, HashEmbedder(), corpus)
    seconds = time.perf_counter() - started
    running = False
    sampler.join()
    import resource

    return {
        "size": size,
        "documents": manifest["documents"],
        "passages": manifest["passages"],
        "sentences": manifest.get("sentences", 0),
        "corpus_rss": corpus_rss,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stages": peaks,
        "seconds": seconds,
    }


def table(rows: list[dict[str, object]]) -> str:
    seen = {s for r in rows for s in r["stages"]}  # type: ignore[attr-defined]
    shown = [s for s in STAGES if s in seen and s != "_write_passage_ids"]
    head = (
        "| size | documents | passages | build | RSS with corpus loaded | peak RSS | "
        + " | ".join(f"`{s}`" for s in shown)
        + " |\n"
        + "|---" * (6 + len(shown))
        + "|\n"
    )
    lines = []
    for r in rows:
        stages = r["stages"]
        assert isinstance(stages, dict)
        label = "full" if r["size"] == "full" else f"{r['size']}×"
        cells = " | ".join(f"{stages[s]:.0f}" if s in stages else "—" for s in shown)
        lines.append(
            f"| {label} | {r['documents']} | {r['passages']} | {r['seconds']:.0f} s "
            f"| {r['corpus_rss']:.0f} MB | {r['peak_rss']:.0f} MB | {cells} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--library", type=Path, required=True, help="law-library.tar.xz or its directory")
    parser.add_argument("--sizes", default="1,10,full", help="multiples of the served corpus, or full")
    parser.add_argument(
        "--root", type=Path, default=ROOT / "var" / "scale", help="where the tarball is unpacked"
    )
    parser.add_argument("--write", action="store_true", help="update bench/results/latest.md")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as scratch:
            print(json.dumps(child(args.child, args.library, Path(scratch))), flush=True)
        return
    from bench.scale import library_dir

    library = library_dir(args.library, args.root)
    header = machine_line("none (hash embedder, 384-d)")
    print(header, flush=True)
    rows = []
    for size in args.sizes.split(","):
        cmd = [sys.executable, "-m", "bench.build_memory", "--library", str(library), "--child", size.strip()]
        env = {**os.environ, "PLANQA_DATA_DIR": tempfile.mkdtemp(prefix="planqa-mem-")}
        try:
            out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
        finally:
            shutil.rmtree(env["PLANQA_DATA_DIR"], ignore_errors=True)
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    body = table(rows)
    print(body)
    if args.write:
        note = (
            f"`python -m bench.build_memory --sizes {args.sizes}`. {header}. Peak RSS of the building "
            "process per stage, in MB: the artefact writer on the main thread's stack when the RSS "
            "was read (embedding included: each writer embeds what it needs), memory the "
            "allocator keeps from earlier stages included. Embedding by a hash "
            "embedder of the real dimension, in the building process: the model runtime adds its "
            "constant on top, and embedding workers of a real build (about 0.6 GB each) run beside it."
        )
        write_section("build-memory", "## Build memory by stage\n\n" + body + "\n" + note)


if __name__ == "__main__":
    main()
