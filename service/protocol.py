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

# h11 refuses request heads larger than this (uvicorn's default is the same 16 KiB; named here
# so the limit is visible next to the timeouts). httptools has its own fixed limit.
MAX_HEADER_BYTES = 16 * 1024


class _HeaderDeadline:
    """Mixin for a uvicorn HTTP protocol; ``header_timeout`` None reads PLANQA_HEADER_TIMEOUT_S."""

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

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        # The request whose headers are awaited will replace the current cycle object.
        self._waiting_cycle = self.cycle
        if self.header_timeout and self.header_timeout > 0:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
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
        super().data_received(data)  # type: ignore[misc]
        if self._header_timer is not None and self.cycle is not self._waiting_cycle:
            self._disarm_header_timer()

    def on_response_complete(self) -> None:
        before = self.cycle
        super().on_response_complete()  # type: ignore[misc]
        # Unless a pipelined request already started, the next request's headers are awaited.
        if self.cycle is before and not self.transport.is_closing():
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
