"""The OpenAPI document as the service really behaves, and /docs served without any CDN.

FastAPI's generated spec knows nothing of planqa's error body, of the statuses middleware and
dependencies answer with, or of the bearer keys; ``openapi_schema`` adds them, reading which
dependencies each route has, so a new admin route is documented as one without being listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.routing import APIRoute

from indexer.settings import Settings

from . import deps
from .limits import HEAVY_ROUTES
from .routes import flat_routes, original
from .schemas import ErrorBody

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
DESCRIPTIONS = {
    400: "The request could not be handled as sent",
    401: "No valid API key: send `Authorization: Bearer <key>`",
    403: "An admin key is needed, and none is configured or this key is not one",
    404: "No such document, passage, county, zone or sector (`allowed` lists the known ones)",
    408: "The request body did not arrive in time",
    409: "This very file is in the knowledge base already (`detail` names its id)",
    413: "The request body is larger than the limit",
    415: "The uploaded file is not of a supported type (`allowed` lists the suffixes)",
    422: "The request is malformed or a value is out of range (`detail` says which)",
    429: "Too many requests from this client or key; see the `Retry-After` header",
    503: "The service is busy (see `Retry-After`) or the index is not loaded",
}
SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["citations", "answer", "done", "error"]},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "JSON: the answer's head, {text}, the full answer, or an ErrorBody",
        },
    },
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}

# Swagger UI's files come from the fastapi-offline package, which ships a current build.
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
# As strict as the chat page: Swagger UI runs from its own files and sets styles only through the DOM.
DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "Cache-Control": "no-cache",
}
DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>planqa API</title>
  <link rel="icon" href="/docs/assets/favicon.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/static/docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


def swagger_dir() -> Path:
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


@router.get("/docs")
def docs_page() -> HTMLResponse:
    return HTMLResponse(DOCS_HTML, headers=DOCS_HEADERS)


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> FileResponse:
    if name not in SWAGGER_FILES:
        raise HTTPException(status_code=404, detail=f"no documentation asset named {name!r}")
    return FileResponse(swagger_dir() / name, media_type=SWAGGER_FILES[name], headers=DOCS_HEADERS)


def _calls(route: Any) -> set[Any]:
    found: set[Any] = set()
    pending = [route.dependant]
    while pending:
        dep = pending.pop()
        if dep.call is not None:
            found.add(dep.call)
        pending.extend(dep.dependencies)
    return found


def _error_statuses(route: Any, method: str, op: dict[str, Any]) -> set[int]:
    calls = _calls(route)
    statuses: set[int] = set()
    if route.path.startswith("/api/"):
        statuses |= {401, 429}
    if deps.require_admin_key in calls:
        statuses |= {401, 403}
    if deps.get_engine in calls or (method.upper(), route.path) in HEAVY_ROUTES or route.path == "/readyz":
        statuses.add(503)
    if op.get("parameters") or op.get("requestBody"):
        statuses.add(422)
    if op.get("requestBody"):
        statuses |= {408, 413}
        if "multipart/form-data" in op["requestBody"].get("content", {}):
            # A file upload: broken multipart framing, a duplicate, or a type the extractors do not read.
            statuses |= {400, 409, 415}
    if "{" in route.path or route.path == "/api/targets":
        statuses.add(404)
    return statuses


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def openapi_schema(app: FastAPI, settings: Settings) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    models["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from PLANQA_API_KEYS, or an admin key from PLANQA_ADMIN_KEYS",
        }
    }
    # Without configured keys the API is open, which OpenAPI writes as an empty alternative.
    read_security: list[dict[str, list[str]]] = [{"bearer": []}]
    if not settings.api_key_list:
        read_security = [{}, {"bearer": []}]
    for route in flat_routes(app):
        if not isinstance(original(route), APIRoute) or not route.include_in_schema:
            continue
        calls = _calls(route)
        for method in route.methods or ():
            op = schema["paths"].get(route.path_format, {}).get(method.lower())
            if op is None:
                continue
            responses = op.setdefault("responses", {})
            for status in sorted(_error_statuses(route, method, op)):
                responses[str(status)] = _error_response(status)
            if deps.require_admin_key in calls:
                op["security"] = [{"bearer": []}]
            elif deps.require_api_key in calls:
                op["security"] = read_security
    stream = schema["paths"].get("/api/ask/stream", {}).get("post")
    if stream is not None:
        stream["responses"]["200"] = {
            "description": "Server-Sent Events: citations, answer (one or more), done; or error",
            # Before OpenAPI 3.2 (itemSchema), an event stream's schema describes one event.
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        }
    # FastAPI's own validation-error models describe a body planqa never sends.
    for unused in ("HTTPValidationError", "ValidationError"):
        models.pop(unused, None)
    app.openapi_schema = schema
    return schema


def install(app: FastAPI, settings: Settings) -> None:
    app.include_router(router)
    app.openapi = lambda: openapi_schema(app, settings)  # type: ignore[method-assign]
