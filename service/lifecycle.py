"""The running service's engine: loaded in the background, swapped atomically, reloaded live.

Requests take the engine reference once (``deps.get_engine``), so swapping ``app.state.engine``
lets every request in flight finish on the engine it started with while new ones get the new
one; the old engine is freed when its last request ends. ``load_generation`` + ``swap_engine``
are what any index change calls (``planqa index``, a document upload's incremental build).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from indexer import generations
from indexer.errors import PlanqaError
from indexer.settings import Settings

if TYPE_CHECKING:
    from .engine import Engine

log = logging.getLogger("planqa.lifecycle")

LOADING, BUILDING, READY, UNAVAILABLE = "loading", "building", "ready", "unavailable"


@dataclass
class EngineSlot:
    """What the app knows about its engine; changed only under ``lock`` (one swap at a time)."""

    status: str = LOADING
    detail: str = "the index is still loading"
    generation: str | None = None
    # A pointer value whose load failed: not retried by the poll until CURRENT changes again.
    failed_generation: str | None = None
    reload_error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def slot_of(app: FastAPI) -> EngineSlot:
    slot: EngineSlot = app.state.lifecycle
    return slot


def install(app: FastAPI, engine: Engine | None) -> None:
    """Initial state: ready with an injected engine, else loading."""
    app.state.lifecycle = EngineSlot()
    app.state.engine = None
    app.state.load_error = None
    if engine is not None:
        swap_engine(app, engine)


def load_generation(settings: Settings, generation: str | None = None) -> Engine:
    """A complete engine over one generation (the live one by default), verified on load."""
    from .engine import load_engine

    return load_engine(settings, build_if_missing=False, generation=generation)


def swap_engine(app: FastAPI, engine: Engine) -> str | None:
    """Makes ``engine`` the one new requests get; returns the generation it replaced."""
    slot = slot_of(app)
    previous = slot.generation
    generation = engine.manifest.get("generation")
    # One reference assignment: a request sees either the old engine or the new one, whole.
    app.state.engine = engine
    app.state.load_error = None
    slot.generation = str(generation) if generation else None
    slot.status, slot.detail = READY, "ready"
    slot.failed_generation = None
    slot.reload_error = None
    return previous


def _unavailable(app: FastAPI, reason: str) -> None:
    slot = slot_of(app)
    slot.reload_error = reason
    if app.state.engine is None:  # with an engine, keep serving it and report the failed reload
        slot.status, slot.detail = UNAVAILABLE, reason
        app.state.load_error = reason


def reload(app: FastAPI) -> dict[str, Any]:
    """Loads the generation CURRENT names, if it is not the one served, and swaps it in.

    Raises IndexError_ (the old engine keeps serving) when the new generation is stale or
    damaged. Blocking: call it from a worker thread.
    """
    settings: Settings = app.state.settings
    root = settings.resolved_index_dir
    slot = slot_of(app)
    with slot.lock:
        t0 = time.perf_counter()
        pointer = generations.read_pointer(root)
        if pointer is not None and pointer == slot.generation and app.state.engine is not None:
            return {"status": "unchanged", "generation": pointer, "previous": pointer, "took_ms": 0.0}
        try:
            if pointer is None:
                generations.live_dir(root)  # raises the "no index: run planqa index" error
            engine = load_generation(settings, pointer)
        except PlanqaError as exc:
            slot.failed_generation = pointer
            _unavailable(app, str(exc))
            log.error("index generation %s not loaded: %s", pointer, exc)
            raise
        previous = swap_engine(app, engine)
    took = round((time.perf_counter() - t0) * 1000, 1)
    log.info("index generation %s loaded in %.0f ms (was %s)", pointer, took, previous)
    return {"status": "reloaded", "generation": pointer, "previous": previous, "took_ms": took}


def _build_if_asked(app: FastAPI) -> None:
    """With ``build_on_start``, builds the index unless the live one is fresh (serve --build)."""
    from indexer.embed import load_embedder
    from indexer.store import build_index

    settings: Settings = app.state.settings
    slot = slot_of(app)
    slot.status, slot.detail = BUILDING, "building the index (planqa serve --build)"

    def waiting(pid: int) -> None:
        slot.detail = f"waiting for the index build of process {pid} (planqa serve --build)"

    def progress(done: int, total: int) -> None:
        slot.detail = f"building the index (planqa serve --build): {done} of {total} passages embedded"

    manifest = build_index(settings, load_embedder(settings), None, progress, waiting, only_if_stale=True)
    log.info("index %s %s", manifest.get("generation"), "reused" if manifest.get("reused") else "built")


def initial_load(app: FastAPI) -> None:
    """Start-up: build if the operator asked for it, then load; never builds otherwise."""
    settings: Settings = app.state.settings
    try:
        if settings.build_on_start:
            _build_if_asked(app)
        reload(app)
    except PlanqaError as exc:
        building = generations.build_in_progress(settings.resolved_index_dir)
        if building and not settings.build_on_start:
            _unavailable(app, f"{exc} (a build by process {building} is running; it is loaded when done)")
        else:
            _unavailable(app, str(exc))
    except Exception as exc:  # anything else would leave /readyz saying "loading" for ever
        log.exception("start-up failed")
        _unavailable(app, f"start-up failed: {type(exc).__name__}: {exc}")


async def watch(app: FastAPI, interval: float) -> None:
    """Polls CURRENT (a few bytes) and reloads when it names a generation not yet tried."""
    settings: Settings = app.state.settings
    slot = slot_of(app)
    while True:
        await asyncio.sleep(interval)
        if slot.status in (LOADING, BUILDING):
            continue
        try:
            pointer = generations.read_pointer(settings.resolved_index_dir)
        except OSError:
            continue
        if pointer is None or pointer in (slot.generation, slot.failed_generation):
            continue
        try:
            await run_in_threadpool(reload, app)
        except PlanqaError:
            pass  # logged and reported in /readyz by reload()
        except Exception:
            log.exception("reload of index generation %s failed", pointer)


def start(app: FastAPI, injected: bool) -> asyncio.Task[None] | None:
    """Begins the initial load (unless an engine was injected) and the pointer poll."""
    settings: Settings = app.state.settings
    if injected:
        return None
    # A daemon thread, so a SIGTERM during a long --build does not wait for it to finish.
    threading.Thread(target=initial_load, args=(app,), name="planqa-load", daemon=True).start()
    if settings.reload_interval > 0:
        return asyncio.create_task(watch(app, settings.reload_interval))
    return None


def readiness(app: FastAPI) -> tuple[bool, dict[str, Any]]:
    """The /readyz body: status, and the served index's manifest when ready."""
    slot = slot_of(app)
    engine = app.state.engine
    if engine is None:
        return False, {"status": slot.status, "detail": slot.detail}
    m = engine.manifest
    index = {
        "generation": m.get("generation"),
        "passages": m.get("passages"),
        "documents": m.get("documents"),
        "model": m.get("model_id"),
        "built_at": m.get("built_at"),
    }
    return True, {
        "status": READY,
        "passages": m.get("passages"),
        "model": m.get("model_id"),
        "index": index,
        "reload_error": slot.reload_error,
    }
