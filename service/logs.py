"""Structured logs: one JSON object per line for every planqa logger, tagged with the request id.

Logging is configured when the application starts (``configure_logging`` from the lifespan), never
at import, so embedding planqa in another program leaves that program's logging alone.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from indexer.settings import Settings

# The id of the request being served; contextvars follow the request into the threadpool.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("planqa_request_id", default="")

# A client's own X-Request-ID is kept only when it cannot smuggle anything into logs or headers.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HANDLER_MARK = "_planqa_json_handler"


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is short and safe, else a fresh one."""
    if header and _SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex[:16]


def key_id(authorization: str | None) -> str:
    """A short, stable hash naming the bearer key in logs without revealing it.

    The operator finds a key's id with ``printf %s KEY | sha256sum | cut -c1-12``.
    """
    if not authorization:
        return ""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return ""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]


class JsonFormatter(logging.Formatter):
    """ts, level, logger, msg, request_id, then the record's ``fields`` (access lines)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id_var.get()
        if rid:
            out["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        line = json.dumps(out, ensure_ascii=False, default=str)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate somewhere: escape, so the line stays UTF-8
            line = json.dumps(out, ensure_ascii=True, default=str)
        return line


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Send the ``planqa`` loggers to stderr as JSON lines; calling it again replaces the handler."""
    logger = logging.getLogger("planqa")
    for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    logger.addHandler(handler)
    logger.setLevel(settings.log_level.upper())
    # The lines are complete on their own; a host's root handler would print them twice.
    logger.propagate = False
    return handler
