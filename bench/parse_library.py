"""Extraction and structure parsing over a directory of documents (e.g. the unpacked law library).

`python bench/parse_library.py DIR` prints files, time, passages, how many documents are made of
articles, the refusals by kind, inferred kinds and duplicate files, as Markdown. No embedding.
"""

from __future__ import annotations

import collections
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(directory: Path) -> None:
    from indexer.errors import PlanqaError
    from indexer.extract import FORMATS, extract
    from indexer.metadata import build_meta, sha256_hex
    from indexer.structure import parse_structure

    files = sorted(
        p for p in directory.rglob("*") if p.suffix.lower() in FORMATS and not p.name.startswith("_")
    )
    refused: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    hashes: collections.Counter[str] = collections.Counter()
    passages = articles = 0
    t0 = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        hashes[sha256_hex(data)] += 1
        try:
            extracted = extract(path.name, data)
            meta = build_meta("d", path.name, data, extracted)
            doc, _ = parse_structure(meta, extracted.text, extracted.reflow)
        except PlanqaError as exc:
            refused[type(exc).__name__] += 1
            continue
        kinds[meta.kind] += 1
        passages += len(doc.passages)
        articles += any(p.kind == "article" for p in doc.passages)
    seconds = time.perf_counter() - t0
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print("# Parsing a document library\n")
    print(f"Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} CPUs; `{uptime}`\n")
    print("| files | seconds | passages | made of articles | refused | duplicates |")
    print("|---|---|---|---|---|---|")
    dups = sum(n - 1 for n in hashes.values() if n > 1)
    print(f"| {len(files)} | {seconds:.1f} | {passages} | {articles} | {dict(refused)} | {dups} |\n")
    print("Kinds from titles: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
