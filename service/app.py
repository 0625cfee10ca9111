"""create_app: the FastAPI application with its error mapping, logging and start-up."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer import __version__
from indexer.errors import (
    DocumentRejected,
    DocumentTooLarge,
    DuplicateDocument,
    IndexError_,
    InvalidRequest,
    ModelError,
    NotFound,
    PlanqaError,
    UnsupportedFormat,
)
from indexer.settings import Settings, get_settings

from . import admin, api, chat, deps, documents_api, lifecycle

log = logging.getLogger("planqa")
access_log = logging.getLogger("planqa.access")

_STATUS: list[tuple[type[Exception], int, str]] = [
    (deps.Unauthorized, 401, "unauthorized"),
    (deps.Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (DuplicateDocument, 409, "duplicate_document"),
    (DocumentTooLarge, 413, "too_large"),
    (UnsupportedFormat, 415, "unsupported_format"),
    (DocumentRejected, 422, "document_rejected"),
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
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = {"error": code, "detail": detail, "allowed": allowed or [], "request_id": request.state.request_id}
    body.update(extra or {})
    return JSONResponse(body, status_code=status)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) or "invalid request"


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(PlanqaError)
    async def planqa_error(request: Request, exc: PlanqaError) -> JSONResponse:
        for cls, status, code in _STATUS:
            if isinstance(exc, cls):
                return _error(status, code, str(exc), request, getattr(exc, "allowed", None))
        return _error(400, "bad_request", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "validation_error", _validation_detail(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, "http_error", str(exc.detail), request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in request %s", request.state.request_id)
        return _error(
            500, "internal_error", "unexpected server error; quote the request id when reporting it", request
        )


def create_app(settings: Settings | None = None, engine: Any = None) -> FastAPI:
    """The application; ``engine`` may be given (tests, embedding), else it is loaded at start-up."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
    )
    app.state.settings = settings
    lifecycle.install(app, engine)

    @app.middleware("http")
    async def request_log(request: Request, call_next: Any) -> Any:
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:12]
        t0 = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        access_log.info(
            json.dumps(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - t0) * 1000, 1),
                    "request_id": request.state.request_id,
                }
            )
        )
        return response

    if settings.cors_origin_list:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
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
    # Before api.router: its GET /api/documents is replaced by the store's list with status.
    app.include_router(documents_api.read_router)
    app.include_router(documents_api.router)
    app.include_router(api.router)
    app.include_router(admin.router)
    app.include_router(chat.router)
    return app
