"""A real uvicorn server in a background thread, for tests that talk HTTP to the app."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any, timeout: float = 30.0, **options: Any) -> Iterator[str]:
    """``options`` go to uvicorn.Config (e.g. the protocol class and timeouts planqa serve uses)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError(f"server on {url} did not start within {timeout}s")
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_settled(url: str, timeout: float = 120.0) -> httpx.Response:
    """/readyz once the service has finished loading (ready, or unavailable with a reason)."""
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(f"{url}/readyz", timeout=5)
        if r.status_code == 200 or r.json().get("status") not in ("loading", "building"):
            return r
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} still loading after {timeout}s: {r.text}")
        time.sleep(0.1)
