"""Prometheus metrics: requests and latency per route, index size, answers and abstentions.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty directory before the
server starts: prometheus_client then keeps each process's values in files there, and /metrics,
whichever worker answers it, adds them up.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import Scope

from .routes import matching

# Seconds; answers take tens of milliseconds warm, shed or queued ones up to the queue timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(
            "planqa_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
        )
        self.latency = Histogram(
            "planqa_http_request_duration_seconds",
            "Time from request start to the last byte of the response",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
        )
        self.passages = Gauge(
            "planqa_index_passages", "Passages in the loaded index", multiprocess_mode="mostrecent"
        )
        self.answers = Counter(
            "planqa_answers",
            "Answers from /api/ask and /api/ask/stream, by whether planqa abstained",
            ["abstained"],
        )


@lru_cache(maxsize=1)
def get_metrics() -> Metrics:
    """The process's metrics, registered once (prometheus_client's registry is process-wide)."""
    return Metrics()


def route_label(app: Any, scope: Scope) -> str:
    """The route template (/api/documents/{doc_id}), so labels stay few whatever the paths."""
    route = scope.get("route")
    if route is None:
        # Requests answered by middleware before routing: find the route they were meant for.
        found = matching(app, scope)
        route = found[0] if found else None
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


def observer(app: Any) -> Any:
    metrics = get_metrics()

    def observe(scope: Scope, status: int, seconds: float) -> None:
        route = route_label(app, scope)
        metrics.requests.labels(scope["method"], route, str(status)).inc()
        metrics.latency.labels(scope["method"], route).observe(seconds)

    return observe


def count_answer(payload: dict[str, Any]) -> None:
    get_metrics().answers.labels("true" if payload.get("abstained") else "false").inc()


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics_endpoint(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    metrics = get_metrics()
    engine = getattr(request.app.state, "engine", None)
    if engine is not None:
        metrics.passages.set(int(engine.manifest.get("passages") or 0))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        output = generate_latest(registry)
    else:
        output = generate_latest(REGISTRY)
    return Response(output, media_type=CONTENT_TYPE_LATEST)
