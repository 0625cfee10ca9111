"""Body limits, read timeouts, rate limits and the admission queue, over real HTTP to uvicorn."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.limits import ClientGone, run_unless_gone
from service.protocol import H11WithHeaderTimeout, HttpToolsWithHeaderTimeout
from tests.edge import StubEngine, closed_within, connect, read_response, request_bytes, stub_server

ASK = {"question": "2025年PM2.5浓度目标是多少？"}


# ---------------------------------------------------------------- body size


def test_declared_oversize_body_is_refused_before_it_is_sent_or_authorised(tmp_path: Path) -> None:
    with stub_server(tmp_path, api_keys="k1", max_body_bytes=1000) as url:
        sock = connect(url)
        # Only the headers go out: a 413 that arrives proves nothing waited for the body.
        head = request_bytes("POST", "/api/ask", headers={"Content-Length": str(200 << 20)})
        sock.sendall(head)
        status, headers, body = read_response(sock)
        assert status == 413
        assert headers["connection"] == "close"
        err = json.loads(body)
        assert err["error"] == "payload_too_large" and "1000" in err["detail"] and err["request_id"]
        assert closed_within(sock, 2)


def test_streamed_body_is_cut_off_at_the_limit(tmp_path: Path) -> None:
    with stub_server(tmp_path, max_body_bytes=50_000) as url:
        sock = connect(url)
        head = request_bytes("POST", "/api/ask", headers={"Transfer-Encoding": "chunked"})
        sock.sendall(head)
        chunk = b"2710\r\n" + b" " * 10_000 + b"\r\n"  # 10 000 bytes, no Content-Length anywhere
        for _ in range(6):
            sock.sendall(chunk)
        status, headers, body = read_response(sock)
        assert status == 413 and json.loads(body)["error"] == "payload_too_large"
        assert headers["connection"] == "close" and closed_within(sock, 2)

        # A client that keeps sending is cut off long before it has sent everything.
        sent = 0

        def chunks() -> Iterator[bytes]:
            nonlocal sent
            for _ in range(1000):
                sent += 100_000
                yield b" " * 100_000

        try:
            r = httpx.post(f"{url}/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
            assert r.status_code == 413
        except httpx.HTTPError:
            pass  # the server closed while the client was still writing
        assert sent < 50_000_000
        assert httpx.post(f"{url}/api/ask", json=ASK).status_code == 200


def test_upload_routes_have_their_own_limit(tmp_path: Path) -> None:
    with stub_server(tmp_path, max_body_bytes=1000, max_upload_bytes=10_000) as url:
        big = b"x" * 5000
        # Not too large for /api/documents: it reaches the route, which wants an admin key (not 413) ...
        r = httpx.post(f"{url}/api/documents", content=big)
        assert r.status_code in (401, 403), r.text
        # ... but too large elsewhere, and past the upload limit everywhere.
        assert httpx.post(f"{url}/api/search", content=big).status_code == 413
        assert httpx.post(f"{url}/api/documents", content=b"x" * 20_000).status_code == 413


# ---------------------------------------------------------------- slow clients


def test_slow_body_gets_408_and_the_connection_is_closed(tmp_path: Path) -> None:
    with stub_server(tmp_path, body_timeout_s=0.5) as url:
        sock = connect(url)
        sock.sendall(request_bytes("POST", "/api/ask", headers={"Content-Length": "100"}) + b'{"question"')
        t0 = time.monotonic()
        status, headers, body = read_response(sock)
        assert status == 408 and json.loads(body)["error"] == "body_timeout"
        assert headers["connection"] == "close" and closed_within(sock, 2)
        assert time.monotonic() - t0 < 3


class _QuickH11(H11WithHeaderTimeout):
    header_timeout = 0.5


class _QuickHttpTools(HttpToolsWithHeaderTimeout):
    header_timeout = 0.5


@pytest.mark.parametrize("protocol", [_QuickH11, _QuickHttpTools], ids=["h11", "httptools"])
def test_slow_headers_are_closed(tmp_path: Path, protocol: type) -> None:
    with stub_server(tmp_path, uvicorn={"http": protocol}) as url:
        # Twenty connections that never finish their headers, one that idles after a response.
        slow = [connect(url) for _ in range(20)]
        for i, sock in enumerate(slow):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" if i % 2 else b"G")
        kept = connect(url)
        kept.sendall(request_bytes("GET", "/healthz"))
        assert read_response(kept)[0] == 200
        kept.sendall(b"GET /healthz HTTP/1.1\r\nX-Drip: ")
        t0 = time.monotonic()
        assert all(closed_within(sock, 3) for sock in [*slow, kept])
        assert time.monotonic() - t0 < 3
        # A client that sends its request promptly is unaffected.
        assert httpx.get(f"{url}/healthz").status_code == 200


@pytest.mark.parametrize("protocol", [_QuickH11, _QuickHttpTools], ids=["h11", "httptools"])
def test_oversized_headers_are_refused(tmp_path: Path, protocol: type) -> None:
    with stub_server(tmp_path, uvicorn={"http": protocol}) as url:
        sock = connect(url)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
            reply = sock.recv(65536)
            assert reply == b"" or b" 431 " in reply.split(b"\r\n")[0] or b" 400 " in reply.split(b"\r\n")[0]
        except OSError:
            pass  # reset while still sending: refused all the same
        assert closed_within(sock, 2)
        assert httpx.get(f"{url}/healthz").status_code == 200


# ---------------------------------------------------------------- rate limits


def test_rate_limit_per_client_address(tmp_path: Path) -> None:
    with stub_server(tmp_path, rate_limit_ip="3/minute") as url, httpx.Client(base_url=url) as client:
        assert [client.get("/api/documents").status_code for _ in range(3)] == [200] * 3
        r = client.get("/api/documents")
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        assert client.get("/healthz").status_code == 200  # only /api/* is limited


def test_rate_limit_per_key(tmp_path: Path) -> None:
    with stub_server(tmp_path, api_keys="a1,b2", rate_limit_key="2/minute") as url:
        a = {"Authorization": "Bearer a1"}
        b = {"Authorization": "Bearer b2"}
        assert [httpx.get(f"{url}/api/documents", headers=a).status_code for _ in range(2)] == [200, 200]
        refused = httpx.get(f"{url}/api/documents", headers=a)
        assert refused.status_code == 429 and "API key" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
        assert httpx.get(f"{url}/api/documents", headers=b).status_code == 200


# ---------------------------------------------------------------- admission queue


def _parallel(url: str, n: int, stagger: float = 0.05) -> list[httpx.Response]:
    results: list[Any] = [None] * n

    def one(i: int) -> None:
        results[i] = httpx.post(f"{url}/api/ask", json=ASK, timeout=30)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
        time.sleep(stagger)  # so the order of arrival is known
    for t in threads:
        t.join()
    return results


def test_queue_sheds_beyond_running_plus_waiting(tmp_path: Path) -> None:
    engine = StubEngine(delay=1.0)
    with stub_server(tmp_path, engine, max_inflight=1, max_queued=1) as url:
        results = _parallel(url, 4)
    assert [r.status_code for r in results] == [200, 200, 503, 503]
    shed = results[2]
    assert shed.json()["error"] == "busy" and shed.headers["retry-after"] == "1"
    assert engine.started == 2


def test_queue_wait_is_bounded(tmp_path: Path) -> None:
    engine = StubEngine(delay=1.0)
    with stub_server(tmp_path, engine, max_inflight=1, max_queued=5, queue_timeout_s=0.3) as url:
        results = _parallel(url, 2)
    assert [r.status_code for r in results] == [200, 503]
    assert "waited" in results[1].json()["detail"]


def test_work_for_a_client_that_left_the_queue_never_starts(tmp_path: Path) -> None:
    engine = StubEngine(delay=1.0)
    with stub_server(tmp_path, engine, max_inflight=1, max_queued=4) as url:
        busy = threading.Thread(target=lambda: httpx.post(f"{url}/api/ask", json=ASK, timeout=30))
        busy.start()
        time.sleep(0.2)
        body = json.dumps(ASK).encode()
        quitter = connect(url)
        quitter.sendall(request_bytes("POST", "/api/ask", body, {"Content-Type": "application/json"}))
        time.sleep(0.2)
        quitter.close()  # hangs up while waiting for the busy slot
        busy.join()
        time.sleep(0.5)
        assert engine.started == 1
        # The slot it would have used is free: the next request runs at once.
        assert httpx.post(f"{url}/api/ask", json=ASK, timeout=30).status_code == 200
        assert engine.started == 2


def test_run_unless_gone_skips_work_for_a_disconnected_client() -> None:
    class Gone:
        async def is_disconnected(self) -> bool:
            return True

    calls: list[int] = []
    # A fresh thread has no running event loop, whatever an earlier test (the
    # browser tests' sync Playwright, say) left behind in the main thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(asyncio.run, run_unless_gone(Gone(), calls.append, 1))  # type: ignore[arg-type]
        with pytest.raises(ClientGone):
            job.result(timeout=10)
    assert calls == []
