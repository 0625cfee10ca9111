"""create_app: the FastAPI application with its error mapping, logging and start-up."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer import __version__
from indexer.errors import IndexError_, InvalidRequest, ModelError, NotFound, PlanqaError
from indexer.settings import Settings, get_settings

from . import admin, api, chat, deps, docs, lifecycle, logs, metrics, middleware, routes
from .limits import ClientGone

log = logging.getLogger("planqa")

_STATUS: list[tuple[type[Exception], int, str]] = [
    (ClientGone, middleware.CLIENT_GONE, "client_closed_request"),
    (deps.Unauthorized, 401, "unauthorized"),
    (deps.Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (InvalidRequest, 422, "invalid_request"),
    (deps.NotReady, 503, "not_ready"),
    (IndexError_, 503, "index_unavailable"),
    (ModelError, 503, "model_unavailable"),
]


def _error(
    status: int,
    code: str,
    detail: str,
    request: Request,
    allowed: list[str] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    body = middleware.error_body(code, detail, str(request.state.request_id), allowed)
    if extra:  # /readyz adds its "status" (loading, building, unavailable) to the error body
        body = json.dumps({**json.loads(body), **extra}, ensure_ascii=True).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in routes.matching(request.app, request.scope):
        methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) or "invalid request"


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(PlanqaError)
    async def planqa_error(request: Request, exc: PlanqaError) -> Response:
        for cls, status, code in _STATUS:
            if isinstance(exc, cls):
                return _error(status, code, str(exc), request, getattr(exc, "allowed", None))
        return _error(400, "bad_request", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _error(422, "validation_error", _validation_detail(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            detail = f"{request.method} is not supported here; use {', '.join(allowed)}"
            return _error(405, "method_not_allowed", detail, request, allowed, {"Allow": ", ".join(allowed)})
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI reports a body that is not UTF-8 as a generic 400; it is malformed input.
            detail = f"the request body is not valid UTF-8 JSON ({exc.__cause__.reason})"
            return _error(422, "validation_error", detail, request)
        headers = dict(exc.headers or {})
        return _error(exc.status_code, "http_error", str(exc.detail), request, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error in request %s", request.state.request_id)
        return _error(
            500, "internal_error", "unexpected server error; quote the request id when reporting it", request
        )


def create_app(settings: Settings | None = None, engine: Any = None) -> FastAPI:
    """The application; ``engine`` may be given (tests, embedding), else it is loaded at start-up."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.configure_logging(settings)
        # Loading runs in the background, so the port opens at once and /readyz says "loading".
        watcher = lifecycle.start(app, injected=engine is not None)
        yield
        if watcher is not None:
            watcher.cancel()

    app = FastAPI(
        title="planqa",
        version=__version__,
        description="Cited answers over 《廊坊市“十四五”生态环境保护规划》 and national environmental law.",
        lifespan=lifespan,
        # /docs is served from local files (service/docs.py); ReDoc would load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    lifecycle.install(app, engine)

    # Edge middleware first, so CORS (when on) wraps it and its 413/429/503 carry CORS headers.
    middleware.install(app, settings, metrics.observer(app) if settings.metrics else None)
    if settings.cors_origin_list:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz")
    def readyz(request: Request) -> Any:
        ready, body = lifecycle.readiness(request.app)
        if not ready:
            return _error(503, "not_ready", body["detail"], request, extra={"status": body["status"]})
        return {**body, "version": __version__, "pid": os.getpid()}

    _install_handlers(app)
    app.include_router(api.router)
    app.include_router(admin.router)
    app.include_router(chat.router)
    docs.install(app, settings)
    if settings.metrics:
        app.include_router(metrics.router)
    return app
