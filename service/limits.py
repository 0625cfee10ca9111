"""Load limits: per-client and per-key rate limits, and the admission queue for heavy routes.

Both count inside one process: with N worker processes a client gets up to N times the rate,
and each worker has its own queue (README, "Limits").
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from indexer.errors import PlanqaError

from .logs import key_id
from .middleware import has_body, send_error

# Answering and searching run the model and the retrievers; everything else is a lookup.
HEAVY_ROUTES = frozenset({("POST", "/api/ask"), ("POST", "/api/ask/stream"), ("POST", "/api/search")})
LIMITED_PREFIX = "/api/"
# Shed requests are told to come back after this long; the queue drains in about that time.
QUEUE_RETRY_AFTER_S = 1

T = TypeVar("T")


class ClientGone(PlanqaError):
    """The client disconnected before its request's work started."""


async def run_unless_gone(request: Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in the threadpool, unless the client has already hung up (then nothing runs)."""
    if await request.is_disconnected():
        raise ClientGone("the client disconnected before the work started")
    return await run_in_threadpool(fn, *args, **kwargs)


class RateLimit:
    """429 with Retry-After once a client address or an API key exceeds its configured rate."""

    def __init__(self, app: ASGIApp, per_ip: str, per_key: str) -> None:
        from limits import parse_many
        from limits.storage import MemoryStorage
        from limits.strategies import MovingWindowRateLimiter

        self.app = app
        self.per_ip = parse_many(per_ip) if per_ip.strip() else []
        self.per_key = parse_many(per_key) if per_key.strip() else []
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        off = not (self.per_ip or self.per_key)
        if off or scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIX):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        checks = [(item, "ip", client[0] if client else "") for item in self.per_ip]
        kid = key_id(Headers(scope=scope).get("authorization"))
        if kid:
            checks += [(item, "key", kid) for item in self.per_key]
        for item, kind, who in checks:
            if not self.limiter.hit(item, kind, who):
                reset, _ = self.limiter.get_window_stats(item, kind, who)
                retry = max(1, math.ceil(reset - time.time()))
                detail = f"more than {item} from this {'API key' if kind == 'key' else 'client address'}"
                headers = {"Retry-After": str(retry)}
                await send_error(scope, send, 429, "rate_limited", detail, headers, close=has_body(scope))
                return
        await self.app(scope, receive, send)


@dataclass
class _Queue:
    slots: asyncio.Semaphore
    loop: asyncio.AbstractEventLoop
    waiting: int = 0
    running: int = 0


class Admission:
    """At most ``max_inflight`` heavy requests run and ``max_queued`` wait; the rest get 503.

    The body is read before a request joins the queue, so a slow sender holds no slot, and a
    waiting request whose client disconnects leaves the queue without ever starting.
    """

    def __init__(self, app: ASGIApp, max_inflight: int, max_queued: int, timeout_s: float) -> None:
        self.app = app
        self.max_inflight = max(1, max_inflight)
        self.max_queued = max(0, max_queued)
        self.timeout_s = timeout_s
        self._queue: _Queue | None = None

    def queue(self) -> _Queue:
        # One queue per event loop: tests start several servers over one app object.
        loop = asyncio.get_running_loop()
        if self._queue is None or self._queue.loop is not loop:
            self._queue = _Queue(asyncio.Semaphore(self.max_inflight), loop)
        return self._queue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) not in HEAVY_ROUTES:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client left, or BodyLimit has already answered
            return
        q = self.queue()
        if q.slots.locked():
            if q.waiting >= self.max_queued:
                detail = f"the server is busy ({q.running} running, {q.waiting} waiting); retry shortly"
                await send_error(scope, send, 503, "busy", detail, {"Retry-After": str(QUEUE_RETRY_AFTER_S)})
                return
            outcome = await self._wait(q, receive)
            if outcome == "timeout":
                detail = f"waited {self.timeout_s:g} s for a free slot; retry shortly"
                await send_error(scope, send, 503, "busy", detail, {"Retry-After": str(QUEUE_RETRY_AFTER_S)})
                return
            if outcome == "gone":
                return
        else:
            await q.slots.acquire()
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        q.running += 1
        try:
            await self.app(scope, replay, send)
        finally:
            q.running -= 1
            q.slots.release()

    async def _wait(self, q: _Queue, receive: Receive) -> str:
        """'admitted' (holding a slot), 'timeout' or 'gone'; a wait ends early on disconnect."""
        q.waiting += 1
        acquire = asyncio.ensure_future(q.slots.acquire())
        watch = asyncio.ensure_future(receive())
        admitted = False
        try:
            done, _ = await asyncio.wait(
                {acquire, watch}, timeout=self.timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            left = watch in done and watch.result().get("type") == "http.disconnect"
            admitted = acquire in done and not left
            return "admitted" if admitted else "gone" if left else "timeout"
        finally:
            q.waiting -= 1
            watch.cancel()
            if not admitted:
                # A slot granted while the wait ended another way goes straight back.
                acquire.cancel()
                acquire.add_done_callback(lambda f: None if f.cancelled() else q.slots.release())


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
