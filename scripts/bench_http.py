"""Answer latency over HTTP: 100 asks against a running server (warm), median and p95.

.venv/bin/python scripts/bench_http.py                 # starts its own server on a free port
.venv/bin/python scripts/bench_http.py --url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = [
    "2025年PM2.5浓度目标是多少？",
    "三河市要完成哪些目标？",
    "涂装企业有哪些要求？",
    "中水利用率要达到多少？",
    "排污许可证的有效期是几年",
    "冒黑烟的大货车怎么管？",
    "廊坊2030年PM2.5目标是多少？",
    "医疗废物暂时贮存不得超过几天",
    "南部优化发展区有什么要求",
    "地里烧秸秆管不管？",
]


def run(url: str, n: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        for q in QUESTIONS:  # warm-up: caches per county and sector fill on first use
            client.post("/api/ask", json={"question": q}).raise_for_status()
        timings = []
        for i in range(n):
            t0 = time.perf_counter()
            client.post("/api/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]}).raise_for_status()
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    median, worst = statistics.median(timings), timings[-1]
    print(f"{n} asks over HTTP: median {median:.1f} ms, p95 {p95:.1f} ms, max {worst:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="")
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    if args.url:
        run(args.url, args.n)
        return
    from indexer.settings import get_settings
    from service.app import create_app
    from tests.live import serve, wait_settled

    with serve(create_app(get_settings()), timeout=600) as url:
        ready = wait_settled(url, timeout=600)  # the port opens before the index is loaded
        if ready.status_code != 200:
            raise SystemExit(f"planqa is not ready: {ready.json()['detail']}")
        run(url, args.n)


if __name__ == "__main__":
    main()
