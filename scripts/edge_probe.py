"""Probe a running server's edge and print figures: oversized bodies, slow clients, request ids.

.venv/bin/python scripts/edge_probe.py --url http://127.0.0.1:8000 --pid <server pid>

Start the server with API keys set (PLANQA_API_KEYS=...) so the oversized body arrives without
a valid key, as in an attack. Traffic goes only to the given URL, bounded in count and time.
"""

from __future__ import annotations

import argparse
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def oversized_body(url: str, pid: int, megabytes: int) -> None:
    before = rss_mb(pid)
    sent = 0

    def chunks():  # type: ignore[no-untyped-def]
        nonlocal sent
        block = b" " * (1 << 20)
        for _ in range(megabytes):
            sent += len(block)
            yield block

    t0 = time.perf_counter()
    status: object
    try:
        declared = {"Content-Length": str(megabytes << 20), "Content-Type": "application/json"}
        status = httpx.post(f"{url}/api/ask", content=chunks(), headers=declared, timeout=60).status_code
    except httpx.HTTPError as exc:
        status = f"connection closed ({type(exc).__name__})"
    ms = (time.perf_counter() - t0) * 1000
    print(
        f"{megabytes} MB body, no key: {status} after {ms:.0f} ms, client had sent {sent >> 20} MB, "
        f"server RSS {before:.0f} -> {rss_mb(pid):.0f} MB"
    )


def slow_headers(url: str, count: int, wait_s: float) -> None:
    parts = urlsplit(url)
    socks = []
    for _ in range(count):
        s = socket.create_connection((parts.hostname, parts.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        s.setblocking(False)
        socks.append(s)
    t0 = time.monotonic()
    open_ = set(range(count))
    closed_at: list[float] = []
    while open_ and time.monotonic() - t0 < wait_s:
        for i in list(open_):
            try:
                if socks[i].recv(1024) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                pass
            open_.discard(i)
            closed_at.append(time.monotonic() - t0)
        time.sleep(0.05)
    for s in socks:
        s.close()
    last = f"{max(closed_at):.1f} s" if closed_at else "-"
    print(f"{count} slow-header connections: {count - len(open_)} closed by the server, last after {last}")


def request_ids(url: str) -> None:
    long_id = "x" * 5000
    echoed = httpx.get(f"{url}/healthz", headers={"X-Request-ID": long_id}).headers["x-request-id"]
    kept = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"]
    print(f"X-Request-ID of 5000 chars answered with {len(echoed)} chars; 'trace-42' answered with {kept!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server process, for its RSS")
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--wait", type=float, default=30.0)
    args = parser.parse_args()
    oversized_body(args.url, args.pid, args.megabytes)
    slow_headers(args.url, args.connections, args.wait)
    request_ids(args.url)


if __name__ == "__main__":
    main()
