"""Cold index build time: builds the whole index into a temporary data directory with an empty
embedding cache, and prints the time spent on passage vectors, sentence vectors and the rest.

    nice .venv/bin/python scripts/bench_index.py            # cold (every vector computed)
    nice .venv/bin/python scripts/bench_index.py --warm     # reuse var/cache (seconds)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", action="store_true", help="reuse the shared embedding cache")
    args = parser.parse_args()

    from indexer.embed import load_embedder
    from indexer.settings import Settings, get_settings
    from indexer.store import build_index

    base = get_settings()
    with tempfile.TemporaryDirectory(prefix="planqa-bench-index-") as tmp:
        data = Path(tmp)
        if args.warm:
            (data / "cache").symlink_to((base.data_dir / "cache").resolve(), target_is_directory=True)
        settings = Settings(
            corpus_dir=base.corpus_dir, data_dir=data, model_cache_dir=base.resolved_model_cache
        )
        t0 = time.perf_counter()
        embedder = load_embedder(settings)
        load_s = time.perf_counter() - t0
        m = build_index(settings, embedder)
    total = float(str(m["build_seconds"]))
    sent = float(str(m.get("sentence_embed_seconds", 0.0)))
    print(f"model load: {load_s:.1f} s (not part of the build)")
    print(f"passages: {m['passages']}, passage vectors computed: {m['embeddings_computed']}")
    print(f"sentence vectors: {m.get('sentences')}, computed: {m.get('sentence_embeddings_computed')}")
    print(f"build total: {total:.1f} s, sentence vectors {sent:.1f} s, the rest {total - sent:.1f} s")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} CPUs; {uptime}")


if __name__ == "__main__":
    main()
