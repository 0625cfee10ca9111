"""Load over HTTP with wrk against a real server on 127.0.0.1: /api/ask and /api/search at several
concurrencies with 1 and 2 worker processes, cold start to /readyz, RSS per worker, index size,
and a soak of mixed traffic with RSS growth.

.venv/bin/python -m bench.http_load                      # the full run (about 15 minutes)
.venv/bin/python -m bench.http_load --duration 10 --soak 20 --workers 1
.venv/bin/python -m bench.http_load --write              # also update bench/results/latest.md

Needs wrk (Debian: apt-get install -y wrk) and a built index; the server is started with uvicorn's
own --workers on the app factory, with the environment of this process (PLANQA_* settings apply).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.common import ROOT, gold_questions, load_average, machine_line, pct, write_section
from indexer.embed import worker_embed_threads

# A well-behaved client told 503 + Retry-After waits that long before its next request. wrk keeps
# Lua state per thread, not per connection, so the wait falls on the thread's next request:
# the rate of retries matches, which connection waits is approximate.
_LUA_BACKOFF = """
local backoff = 0
response = function(status, headers, body)
  if status == 503 then backoff = 1000 * (tonumber(headers["Retry-After"]) or 1) end
end
delay = function() local d = backoff; backoff = 0; return d end
"""

# From this many connections on, the queue may shed, and clients back off as real ones do.
# (Below it they do not: wrk's delay hook costs a timer per request, which skews c=1 latency.)
POLITE_FROM = 32

_LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d,'
    .. '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _lua_requests(kind: str, questions: list[str], polite: bool) -> str:
    """A wrk script cycling through the questions (each thread from its own offset)."""

    def body(obj: object) -> str:
        return "[==[" + json.dumps(obj, ensure_ascii=True) + "]==]"

    asks = [body({"question": q}) for q in questions]
    searches = [body({"query": q, "top_k": 10, "mode": "hybrid"}) for q in questions]
    lines = [
        "local asks = {" + ",".join(asks) + "}",
        "local searches = {" + ",".join(searches) + "}",
        "local targets = {'/api/targets?county=%E4%B8%89%E6%B2%B3%E5%B8%82',"
        " '/api/targets?sector=%E6%B6%82%E8%A3%85', '/api/targets'}",
        "local n = 0",
        "local hdr = {['Content-Type'] = 'application/json'}",
        "setup = function(thread) thread:set('offset', math.random(1, #asks)) end",
        "init = function(args) n = (offset or 0) end",
    ]
    if kind == "ask":
        lines.append(
            "request = function() n = n + 1 "
            "return wrk.format('POST', '/api/ask', hdr, asks[n % #asks + 1]) end"
        )
    elif kind == "search":
        lines.append(
            "request = function() n = n + 1 "
            "return wrk.format('POST', '/api/search', hdr, searches[n % #searches + 1]) end"
        )
    else:  # the soak mix: what the page and API clients send, asks dominating
        lines.append(
            "request = function() n = n + 1 local r = n % 10 "
            "if r < 5 then return wrk.format('POST', '/api/ask', hdr, asks[n % #asks + 1]) "
            "elseif r < 8 then return wrk.format('POST', '/api/search', hdr, searches[n % #searches + 1]) "
            "elseif r < 9 then return wrk.format('GET', targets[n % #targets + 1]) "
            "else return wrk.format('GET', '/') end end"
        )
    return "\n".join(lines) + "\n" + (_LUA_BACKOFF if polite else "") + _LUA_DONE


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    ready_s: float
    workers: int
    log: Path

    def worker_procs(self) -> list[psutil.Process]:
        parent = psutil.Process(self.proc.pid)
        kids = [p for p in parent.children(recursive=True) if "python" in p.name().lower()]
        # uvicorn --workers N: a supervisor plus N workers (plus a multiprocessing helper process).
        kids = [p for p in kids if p.memory_info().rss > 200 * 2**20]
        return kids or [parent]

    def rss_mb(self) -> list[float]:
        return [p.memory_info().rss / 2**20 for p in self.worker_procs()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(workers: int, log_dir: Path, split_threads: bool, timeout: float = 900) -> Iterator[Server]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    log = log_dir / f"server-{workers}w.log"
    t0 = time.perf_counter()
    env = dict(os.environ)
    if split_threads and not env.get("PLANQA_EMBED_THREADS"):
        env["PLANQA_EMBED_THREADS"] = str(worker_embed_threads(workers))
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        ready_s = _wait_ready(proc, url, workers, t0, timeout, log)
        yield Server(proc, url, ready_s, workers, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_ready(
    proc: subprocess.Popen[bytes], url: str, workers: int, t0: float, timeout: float, log: Path
) -> float:
    """Seconds until /readyz answers 200 on fresh connections often enough that every worker has."""
    streak = 0
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            ok = httpx.get(f"{url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            ok = False
        streak = streak + 1 if ok else 0
        if streak >= 4 * workers:  # new connections are spread over the workers by the kernel
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise RuntimeError(f"server not ready within {timeout:.0f} s; see {log}")


def first_pass(url: str, questions: list[str]) -> list[float]:
    """Every question once, one at a time, right after start-up: first-time costs included."""
    ms = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for q in questions:
            t0 = time.perf_counter()
            client.post("/api/ask", json={"question": q}).raise_for_status()
            ms.append((time.perf_counter() - t0) * 1000)
    return ms


@dataclass
class WrkResult:
    kind: str
    workers: int
    conns: int
    rps: float
    p50: float
    p95: float
    p99: float
    errors: int
    load: str
    served: Served
    rss: list[float] = field(default_factory=list)

    def row(self) -> str:
        return (
            f"| {self.kind} | {self.workers} | {self.conns} | {self.rps:.1f} | {self.p50:.0f} | "
            f"{self.p95:.0f} | {self.p99:.0f} | {self.served.shed} | {self.served.ok_p99:.0f} | "
            f"{self.errors} | {self.load} |"
        )


@dataclass(frozen=True)
class Served:
    """What the server's own access log says about one run: shed requests, and the admitted ones."""

    ok: int
    shed: int
    ok_p99: float


def served_since(log: Path, offset: int) -> Served:
    """Reads the JSON access lines the server wrote after ``offset``.

    wrk's latency mixes the quick 503s of shed requests with the admitted ones; the server times
    each admitted request from its first byte to its last, queue wait included (not the kernel's
    accept backlog, which stays short while the event loop is free).
    """
    ok_ms: list[float] = []
    shed = 0
    with open(log, "rb") as fh:
        fh.seek(offset)
        for raw in fh:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(rec, dict) or not str(rec.get("path", "")).startswith("/api/"):
                continue
            if rec.get("status") == 503:
                shed += 1
            elif rec.get("status") == 200 and isinstance(rec.get("ms"), int | float):
                ok_ms.append(float(rec["ms"]))
    return Served(len(ok_ms), shed, pct(ok_ms, 99) if ok_ms else 0.0)


def drain(url: str, limit_s: float = 120) -> None:
    """Waits until requests left over from the last run are done (the server keeps working on
    requests whose clients hung up), so they do not count against the next run."""
    t_end = time.perf_counter() + limit_s
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{url}/readyz", timeout=limit_s)
        if time.perf_counter() - t0 < 0.2:
            return


def wrk(server: Server, kind: str, conns: int, seconds: int, script: Path) -> WrkResult:
    url, workers = server.url, server.workers
    drain(url)
    load = load_average()
    offset = server.log.stat().st_size
    threads = 1 if conns == 1 else 2
    cmd = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(conns),
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    r = json.loads(line.removeprefix("WRKJSON "))
    time.sleep(0.5)  # let the workers flush their last access lines
    served = served_since(server.log, offset)
    kinds = ("connect", "read", "write", "status", "timeout")
    # A shed request (503 busy) is the queue doing its job; anything else is an error.
    errors = sum(r[k] for k in kinds if k != "status") + max(0, r["status"] - served.shed)
    if errors:  # which kind matters: non-2xx answers, or sockets closed or timed out
        print("  errors: " + ", ".join(f"{k} {r[k]}" for k in kinds if r[k]), flush=True)
    return WrkResult(
        kind,
        workers,
        conns,
        r["requests"] / (r["duration_us"] / 1e6),
        r["p50"] / 1000,
        r["p95"] / 1000,
        r["p99"] / 1000,
        errors,
        load,
        served,
    )


def soak(server: Server, seconds: int, script: Path) -> tuple[WrkResult, list[float], list[float]]:
    before = server.rss_mb()
    peak = list(before)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            for i, v in enumerate(server.rss_mb()):
                if i < len(peak):
                    peak[i] = max(peak[i], v)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        res = wrk(server, "mixed", 32, seconds, script)
    finally:
        stop.set()
        t.join()
    return res, before, server.rss_mb()


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=30, help="seconds per wrk run")
    parser.add_argument("--conns", default="1,8,32")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--kinds", default="ask,search")
    parser.add_argument("--soak", type=int, default=60, help="seconds of mixed traffic at c=32 (0 = none)")
    parser.add_argument(
        "--all-threads",
        action="store_true",
        help="every worker embeds on all CPUs (default: CPUs / workers, as `planqa serve --workers` does)",
    )
    parser.add_argument("--write", action="store_true", help="update bench/results/latest.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")
    from indexer.settings import get_settings

    settings = get_settings()
    questions = gold_questions()
    tmp = Path(tempfile.mkdtemp(prefix="planqa-bench-"))
    scripts = {(k, pol): tmp / f"{k}-{pol}.lua" for k in ("ask", "search", "mixed") for pol in (False, True)}
    for (k, pol), p in scripts.items():
        p.write_text(_lua_requests(k, questions, pol), encoding="utf-8")
    worker_counts = [int(w) for w in args.workers.split(",")]
    results: list[WrkResult] = []
    starts: list[str] = []
    soak_lines: list[str] = []
    model = ""
    for workers in worker_counts:
        with serve(workers, tmp, not args.all_threads) as server:
            model = str(httpx.get(f"{server.url}/readyz").json().get("model"))
            firsts = first_pass(server.url, questions)
            rss = server.rss_mb()
            starts.append(
                f"| {workers} | {server.ready_s:.1f} | {pct(firsts, 50):.0f} | {pct(firsts, 95):.0f} | "
                f"{max(firsts):.0f} | {' / '.join(f'{v:.0f}' for v in rss)} | {load_average()} |"
            )
            print(starts[-1], flush=True)
            for kind in args.kinds.split(","):
                for conns in [int(c) for c in args.conns.split(",")]:
                    script = scripts[(kind, conns >= POLITE_FROM)]
                    res = wrk(server, kind, conns, args.duration, script)
                    results.append(res)
                    print(res.row(), flush=True)
            if args.soak and workers == worker_counts[-1]:
                res, before, after = soak(server, args.soak, scripts[("mixed", True)])
                growth = [(a - b) / b * 100 for a, b in zip(after, before, strict=False)]
                soak_lines = [
                    f"Soak, {args.soak} s at c=32, mixed (50 % ask, 30 % search, 10 % targets, 10 % page), "
                    f"{workers} worker(s): {res.rps:.1f} req/s, p50 {res.p50:.0f} ms, p95 {res.p95:.0f} ms, "
                    f"p99 {res.p99:.0f} ms, {res.errors} errors; RSS per worker "
                    + ", ".join(
                        f"{b:.0f} → {a:.0f} MB ({g:+.1f} %)"
                        for b, a, g in zip(before, after, growth, strict=False)
                    )
                    + f" (load before {res.load})."
                ]
                print(soak_lines[0], flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    by = {(r.kind, r.workers, r.conns): r for r in results}
    fixed_threads = os.environ.get("PLANQA_EMBED_THREADS")
    if fixed_threads or args.all_threads:
        threads_note = fixed_threads or "all CPUs"
    else:
        threads_note = "CPUs / workers (as `planqa serve --workers N` sets it)"
    scale = []
    for kind in args.kinds.split(","):
        for conns in [int(c) for c in args.conns.split(",")]:
            one, two = by.get((kind, 1, conns)), by.get((kind, 2, conns))
            if one and two and one.rps:
                scale.append(f"{kind} c={conns}: {two.rps / one.rps:.2f}×")
    body = [
        "## HTTP load (wrk)",
        "",
        machine_line(model),
        "",
        f"`python -m bench.http_load` — uvicorn on 127.0.0.1, wrk {args.duration} s per row with the "
        f"{len(questions)} gold questions in rotation; wrk runs on the same 2 cores; embedding threads "
        f"per worker: {threads_note}; "
        f"backend {settings.embedding_backend}. Index size on disk "
        f"{_du_mb(settings.resolved_index_dir):.1f} MB.",
        "",
        "Start-up: seconds from launch to /readyz 200 on every worker; then every gold question once "
        "(cold: first-time costs included), one at a time.",
        "",
        "| workers | cold start s | first pass p50 ms | p95 ms | max ms | RSS per worker MB | load avg |",
        "|---|---|---|---|---|---|---|",
        *starts,
        "",
        "req/s and p50 / p95 / p99 are wrk's over every response; *shed* counts 503 busy answers "
        "(the admission queue refusing work), *admitted p99* is the server's own time for the 200s "
        f"(from its access log, queue wait included). From c={POLITE_FROM} on, a client answered 503 waits "
        "for its Retry-After before sending again, as the page and a well-behaved API client do.",
        "",
        "| endpoint | workers | connections | req/s | p50 ms | p95 ms | p99 ms | shed "
        "| admitted p99 ms | errors | load avg before |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *[r.row() for r in results],
        "",
        ("Two workers over one: " + ", ".join(scale) + ".") if scale else "",
        "",
        *soak_lines,
    ]
    text = "\n".join(body)
    print(text)
    if args.write:
        write_section("http", text)


if __name__ == "__main__":
    main()
