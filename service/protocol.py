"""uvicorn's HTTP protocol with a deadline for request headers, and the uvicorn options planqa uses.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` seconds, but it starts
no timer on a fresh connection, and any byte received cancels the keep-alive timer: a client
that opens a connection and sends its headers one byte at a time keeps it open for ever. The
protocol classes below arm a timer when a connection opens and after each response, and close
the connection when a request's headers have not all arrived in ``header_timeout_s``. The body
has its own deadline in service.middleware.BodyLimit.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from indexer.settings import Settings, get_settings

# The largest request head accepted. h11 enforces it itself (h11_max_incomplete_event_size);
# httptools has no limit of its own, so the mixin below counts the bytes.
MAX_HEADER_BYTES = 16 * 1024
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 30\r\nconnection: close\r\n\r\n"
    b"request headers are too large\n"
)


class _HeaderDeadline:
    """Mixin for a uvicorn HTTP protocol: a deadline and a size cap for each request's headers.

    ``header_timeout`` None reads PLANQA_HEADER_TIMEOUT_S.
    """

    header_timeout: float | None = None
    # Provided by the uvicorn protocol this is mixed into.
    cycle: Any
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.header_timeout is None:
            self.header_timeout = get_settings().header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None
        self._waiting_cycle: Any = None
        self._awaiting_headers = False
        self._header_bytes = 0

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        # The request whose headers are awaited will replace the current cycle object.
        self._waiting_cycle = self.cycle
        self._awaiting_headers = True
        self._header_bytes = 0
        if self.header_timeout and self.header_timeout > 0:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        self._awaiting_headers = False
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        waiting = self._awaiting_headers
        super().data_received(data)  # type: ignore[misc]
        if not waiting or self.transport.is_closing():
            return
        if self.cycle is not self._waiting_cycle:
            self._disarm_header_timer()
            return
        self._header_bytes += len(data)
        if self._header_bytes > MAX_HEADER_BYTES:
            self._disarm_header_timer()
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        # Unless a pipelined request is already in hand, the next request's headers are awaited.
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not getattr(self, "pipeline", None) and not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]


class H11WithHeaderTimeout(_HeaderDeadline, H11Protocol):
    pass


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsWithHeaderTimeout(_HeaderDeadline, HttpToolsProtocol):
        pass

    DEFAULT_PROTOCOL: type[asyncio.Protocol] = HttpToolsWithHeaderTimeout
except ImportError:  # httptools is optional; uvicorn falls back to h11 the same way
    DEFAULT_PROTOCOL = H11WithHeaderTimeout


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run/Config that bound how long slow clients hold a connection.

    The protocol class is named by module path so it survives uvicorn's worker processes.
    """
    return {
        "http": f"{DEFAULT_PROTOCOL.__module__}:{DEFAULT_PROTOCOL.__qualname__}",
        "timeout_keep_alive": settings.keep_alive_s,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }
