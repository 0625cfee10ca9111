"""FastAPI dependencies: the loaded engine, the settings, and the optional API-key check."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from fastapi import Request

from indexer.errors import PlanqaError
from indexer.settings import Settings

if TYPE_CHECKING:
    from .engine import Engine


class NotReady(PlanqaError):
    """The index or model is not loaded (yet, or because loading failed)."""


class Unauthorized(PlanqaError):
    """A protected endpoint was called without a valid API key."""


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        reason = getattr(request.app.state, "load_error", None) or "the index is still loading"
        raise NotReady(f"service not ready: {reason}")
    return engine


def _bearer_matches(request: Request, keys: list[str]) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    # Compare against every key in constant time, so timing reveals neither key nor match.
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(token.encode(), key.encode())
    return scheme.lower() == "bearer" and ok


def require_api_key(request: Request) -> None:
    keys = get_app_settings(request).api_key_list
    if not keys:
        return
    # An admin key is accepted wherever a read key is.
    if not _bearer_matches(request, keys + get_app_settings(request).admin_key_list):
        raise Unauthorized("this endpoint needs an API key: send the header 'Authorization: Bearer <key>'")


class Forbidden(PlanqaError):
    """An operator action was asked for without an admin key, or none is configured."""


def require_admin_key(request: Request) -> None:
    keys = get_app_settings(request).admin_key_list
    if not keys:
        raise Forbidden("this action needs an admin key, and none is configured (set PLANQA_ADMIN_KEYS)")
    if not _bearer_matches(request, keys):
        raise Unauthorized("this action needs an admin key: send the header 'Authorization: Bearer <key>'")
