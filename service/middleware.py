"""Pure ASGI middleware at the HTTP edge: request context and access log, and the body limit.

Pure ASGI rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware buffers the
app in a separate task, which hides client disconnects from streamed answers, and it could only
act after the body had been read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import key_id, request_id_from, request_id_var

access_log = logging.getLogger("planqa.access")

# Sent with every response unless the route set its own (the page and /docs set a fuller CSP).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
UPLOAD_PREFIX = "/api/documents"
# What the access log records when the app returned without answering: the client had gone.
CLIENT_GONE = 499


def error_body(code: str, detail: str, request_id: str, allowed: list[str] | None = None) -> bytes:
    body = {"error": code, "detail": detail, "allowed": allowed or [], "request_id": request_id}
    # ensure_ascii: the body stays valid UTF-8 whatever text an error message quotes.
    return json.dumps(body, ensure_ascii=True).encode()


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
    close: bool = False,
) -> None:
    """Answer with planqa's JSON error body from inside a middleware (before any route ran)."""
    body = error_body(code, detail, str(scope.get("state", {}).get("request_id", "")))
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if close:
        # The rest of the request body is never read, so the connection cannot carry another request.
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def has_body(scope: Scope) -> bool:
    headers = Headers(scope=scope)
    length = headers.get("content-length")
    return bool(headers.get("transfer-encoding")) or (length is not None and length.strip() != "0")


class RequestContext:
    """Request id, security headers, one JSON access-log line and the request metrics."""

    def __init__(self, app: ASGIApp, observe: Callable[[Scope, int, float], None] | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        rid = request_id_from(headers.get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        t0 = time.perf_counter()
        status = CLIENT_GONE

        async def send_with_context(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                out = MutableHeaders(scope=message)
                out["X-Request-ID"] = rid
                for name, value in SECURITY_HEADERS.items():
                    if name not in out:
                        out[name] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_context)
        except BaseException:
            if status == CLIENT_GONE:
                status = 500
            raise
        finally:
            elapsed = time.perf_counter() - t0
            client = scope.get("client")
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "fields": {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "ms": round(elapsed * 1000, 1),
                        "client": client[0] if client else "",
                        "key_id": key_id(headers.get("authorization")),
                    }
                },
            )
            if self.observe is not None:
                self.observe(scope, status, elapsed)
            request_id_var.reset(token)


class BodyLimit:
    """413 for bodies over the limit, 408 for bodies that take too long, before any route runs.

    A declared Content-Length over the limit is refused without reading a byte; a chunked or
    understated body is counted as it arrives and refused the moment it passes the limit. The
    app then sees a disconnect, and whatever it answers to that is dropped. Starlette's own
    RequestBodyLimitMiddleware only checks when a route reads the body, and answers in plain text.
    """

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int, timeout_s: float) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload
        self.timeout_s = timeout_s

    def limit_for(self, scope: Scope) -> int:
        upload = scope["path"].startswith(UPLOAD_PREFIX) and scope["method"] in ("POST", "PUT")
        return self.max_upload if upload else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send, limit)
            return

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        received = 0
        complete = False
        answered = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, complete, answered
            if answered:
                return {"type": "http.disconnect"}
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                if not started:
                    detail = f"the request body did not arrive within {self.timeout_s:g} s"
                    await send_error(scope, send, 408, "body_timeout", detail, close=True)
                answered = True
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started:
                        await self._too_large(scope, send, limit)
                    answered = True
                    return {"type": "http.disconnect"}
                complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    @staticmethod
    async def _too_large(scope: Scope, send: Send, limit: int) -> None:
        detail = f"the request body is larger than {limit} bytes"
        await send_error(scope, send, 413, "payload_too_large", detail, close=True)


def install(app: Any, settings: Any, observe: Callable[[Scope, int, float], None] | None = None) -> None:
    """Register the edge middleware; the last one added runs first on each request."""
    from .limits import Admission, RateLimit

    app.add_middleware(
        Admission,
        max_inflight=settings.max_inflight,
        max_queued=settings.max_queued,
        timeout_s=settings.queue_timeout_s,
    )
    app.add_middleware(
        BodyLimit,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
        timeout_s=settings.body_timeout_s,
    )
    app.add_middleware(RateLimit, per_ip=settings.rate_limit_ip, per_key=settings.rate_limit_key)
    app.add_middleware(RequestContext, observe=observe)
