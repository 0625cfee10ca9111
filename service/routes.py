"""Every route of the app as one flat list, whichever way FastAPI keeps included routers."""

from __future__ import annotations

from typing import Any

from starlette.routing import Match
from starlette.types import Scope


def flat_routes(app: Any) -> list[Any]:
    """Routes with their full path, methods and dependant, included routers expanded."""
    try:
        # Newer FastAPI keeps each included router as one nested entry of app.routes.
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def original(route: Any) -> Any:
    return getattr(route, "original_route", route)


def matching(app: Any, scope: Scope) -> list[Any]:
    """The routes whose path matches the request, whatever their methods."""
    return [r for r in flat_routes(app) if r.matches(scope)[0] is not Match.NONE]
