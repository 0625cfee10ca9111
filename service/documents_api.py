"""Managing the knowledge base over HTTP: upload, replace, delete (admin key) and the status list.

A write validates and stores the file at once (a refusal is a 4xx and writes nothing), answers
with the document's id and status ``indexing``, and hands the rebuild to one background worker
per application, so concurrent uploads are serialised and a request never waits for embedding.
When the rebuild is done the worker swaps the new generation in (``lifecycle.reload``) and
records ``ready`` or ``failed`` with the reason on the documents.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from indexer.docstore import DocumentStore, open_store
from indexer.errors import PlanqaError
from indexer.settings import Settings

from . import deps, lifecycle

log = logging.getLogger("planqa.documents")
router = APIRouter(prefix="/api", dependencies=[Depends(deps.require_admin_key)])
read_router = APIRouter(prefix="/api", dependencies=[Depends(deps.require_api_key)])


class IndexUpdater:
    """Runs index rebuilds one at a time; changes arriving during a rebuild trigger one more."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._lock = threading.Lock()
        self._changed: list[str] = []
        self._thread: threading.Thread | None = None

    def schedule(self, doc_ids: list[str]) -> None:
        with self._lock:
            self._changed.extend(doc_ids)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="planqa-index-update", daemon=True)
                self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                changed, self._changed = self._changed, []
                if not changed:
                    self._thread = None
                    return
            self._rebuild(changed)

    def _rebuild(self, changed: list[str]) -> None:
        from indexer.corpus import load_corpus
        from indexer.docstore import corpus_source
        from indexer.embed import load_embedder
        from indexer.store import build_index

        store = open_store(self.settings)
        try:
            engine = getattr(self.app.state, "engine", None)
            embedder = engine.searcher.embedder if engine is not None else load_embedder(self.settings)
            manifest = build_index(self.settings, embedder, load_corpus(corpus_source(self.settings)))
            lifecycle.reload(self.app)  # the atomic swap: requests in flight finish on the old engine
            log.info("index rebuilt: %s embeddings computed", manifest.get("embeddings_computed"))
        except PlanqaError as exc:
            log.error("index rebuild failed: %s", exc)
            store.set_status([d for d in changed if d], "failed", str(exc))
            return
        except Exception as exc:  # the worker must record the failure, never die silently
            log.exception("index rebuild failed")
            store.set_status([d for d in changed if d], "failed", f"internal error: {exc}")
            return
        store.set_status([d.meta.id for d in store.documents() if d.status == "indexing"], "ready")


def _updater(request: Request) -> IndexUpdater:
    app = request.app
    updater: IndexUpdater | None = getattr(app.state, "index_updater", None)
    if updater is None:
        updater = IndexUpdater(app, deps.get_app_settings(request))
        app.state.index_updater = updater
    return updater


def _store(request: Request) -> DocumentStore:
    return open_store(deps.get_app_settings(request))


async def _read(file: UploadFile, limit: int) -> bytes:
    """The upload's bytes, stopping one byte past the limit so the store refuses it with a 413."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await file.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


@router.post("/documents", status_code=201)
async def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    title: Annotated[str | None, Form(max_length=200)] = None,
    kind: Annotated[str | None, Form(max_length=20)] = None,
    tier: Annotated[str | None, Form(max_length=20)] = None,
) -> dict[str, Any]:
    store = _store(request)
    data = await _read(file, store.max_bytes)
    doc_id = await run_in_threadpool(store.add, file.filename or "", data, title, kind, None, None, tier)
    _updater(request).schedule([doc_id])
    return {"id": doc_id, "status": "indexing"}


@router.put("/documents/{doc_id}")
async def replace(
    doc_id: str,
    request: Request,
    file: Annotated[UploadFile, File()],
    title: Annotated[str | None, Form(max_length=200)] = None,
    kind: Annotated[str | None, Form(max_length=20)] = None,
    tier: Annotated[str | None, Form(max_length=20)] = None,
) -> dict[str, Any]:
    store = _store(request)
    data = await _read(file, store.max_bytes)
    version = await run_in_threadpool(store.replace, doc_id, file.filename or "", data, title, kind, tier)
    _updater(request).schedule([doc_id])
    return {"id": doc_id, "version": version, "status": "indexing"}


@router.delete("/documents/{doc_id}")
async def delete(doc_id: str, request: Request) -> dict[str, Any]:
    await run_in_threadpool(_store(request).remove, doc_id)
    _updater(request).schedule([""])  # nothing to mark, but the index must lose the document
    return {"id": doc_id, "status": "removed"}


@read_router.get("/documents")
def documents(request: Request) -> dict[str, Any]:
    """Every document of the knowledge base with its status, and what the served index holds of it."""
    engine = getattr(request.app.state, "engine", None)
    served = {d["id"]: d for d in engine.documents()} if engine is not None else {}
    out = []
    for d in _store(request).documents():
        entry = d.as_dict()
        indexed = served.get(d.meta.id, {})
        if d.status == "indexing" and indexed.get("sha256") == d.meta.sha256:
            # Served already (swapped in before the worker wrote the status, or built at a
            # restart that interrupted the worker): this very file is what answers use.
            entry["status"] = "ready"
        entry["passages"] = indexed.get("passages", 0)
        entry["characters"] = indexed.get("characters", 0)
        out.append(entry)
    return {"documents": out}
