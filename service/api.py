"""The JSON API for enterprises and for the chat page."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from . import deps, metrics
from .engine import Engine
from .limits import run_unless_gone
from .schemas import AskRequest, AskResponse, SearchRequest, SearchResponse

log = logging.getLogger("planqa.api")
router = APIRouter(prefix="/api", dependencies=[Depends(deps.require_api_key)])


@router.post("/ask", response_model=AskResponse)
async def ask(
    body: AskRequest, request: Request, engine: Engine = Depends(deps.get_engine)
) -> dict[str, Any]:
    if deps.get_app_settings(request).log_questions:
        log.info("question: %s", body.question)
    payload = await run_unless_gone(request, engine.ask_payload, body.question, body.top_k, body.doc_ids)
    metrics.count_answer(payload)
    return payload


@router.post("/search", response_model=SearchResponse)
async def search(
    body: SearchRequest, request: Request, engine: Engine = Depends(deps.get_engine)
) -> dict[str, Any]:
    return await run_unless_gone(
        request, engine.search_payload, body.query, body.top_k, body.mode, body.doc_ids
    )


@router.get("/targets")
def targets(
    county: str | None = Query(default=None, max_length=50),
    zone: str | None = Query(default=None, max_length=50),
    sector: str | None = Query(default=None, max_length=50),
    year: str | None = Query(default=None, pattern=r"^\d{4}$"),
    attribute: str | None = Query(default=None, pattern=r"^(约束性|预期性)$"),
    engine: Engine = Depends(deps.get_engine),
) -> dict[str, Any]:
    return engine.targets_payload(county=county, zone=zone, sector=sector, year=year, attribute=attribute)


@router.get("/vocab")
def vocab(engine: Engine = Depends(deps.get_engine)) -> dict[str, Any]:
    return engine.vocab_payload()


@router.get("/documents/{doc_id}")
def document(doc_id: str, engine: Engine = Depends(deps.get_engine)) -> dict[str, Any]:
    return engine.document(doc_id)


@router.get("/passages/{passage_id}")
def passage(passage_id: str, engine: Engine = Depends(deps.get_engine)) -> dict[str, Any]:
    return engine.passage(passage_id)
