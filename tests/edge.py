"""Helpers for the HTTP-edge tests: a stand-in engine and raw-socket clients.

The engine stand-in keeps these tests about the edge (limits, timeouts, logs, headers), and lets
a test make the work slow on purpose; the real-engine checks are in test_edge_real.py.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.errors import NotFound
from indexer.settings import Settings
from service.app import create_app
from tests.live import serve


class StubEngine:
    """Answers at once, or after ``delay`` seconds; counts how many answers were started."""

    def __init__(self, delay: float = 0.0, abstain: bool = False) -> None:
        self.manifest: dict[str, object] = {"passages": 3, "model_id": "stub"}
        self.delay = delay
        self.abstain = abstain
        self.started = 0
        self._lock = threading.Lock()

    def ask_payload(self, question: str, top_k: int = 5, doc_ids: list[str] | None = None) -> dict[str, Any]:
        with self._lock:
            self.started += 1
        time.sleep(self.delay)
        return {
            "question": question,
            "answer": "不知道。" if self.abstain else "答案[1]。",
            "abstained": self.abstain,
            "citations": [],
            "related": [],
            "targets": [],
            "took_ms": 1.0,
        }

    def search_payload(self, query: str, top_k: int, mode: str, doc_ids: list[str] | None) -> dict[str, Any]:
        with self._lock:
            self.started += 1
        time.sleep(self.delay)
        return {"results": [], "took_ms": 0.5}

    def documents(self) -> list[dict[str, Any]]:
        return []

    def document(self, doc_id: str) -> dict[str, Any]:
        raise NotFound(f"no document {doc_id!r}", allowed=["langfang-eco-plan"])


@contextmanager
def stub_server(
    tmp_path: Path, engine: Any = None, uvicorn: dict[str, Any] | None = None, **settings: Any
) -> Iterator[str]:
    """A real uvicorn server on a free port over ``engine``, with planqa's uvicorn options."""
    from service.protocol import uvicorn_options

    config = Settings(data_dir=tmp_path, **settings)
    options = {**uvicorn_options(config), **(uvicorn or {})}
    with serve(create_app(config, engine=engine or StubEngine()), **options) as url:
        yield url


def connect(url: str, timeout: float = 5.0) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body, read off a keep-alive socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before the headers were complete: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the body was complete")
        rest += chunk
    return status, headers, rest[:length]


def request_bytes(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    headers = headers or {}
    chunked = "Transfer-Encoding" in headers
    all_headers = {"Content-Length": str(len(body))} if (body or method == "POST") and not chunked else {}
    all_headers.update(headers)
    lines += [f"{k}: {v}" for k, v in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes the connection (EOF or reset) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True
