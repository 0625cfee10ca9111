"""The officials' chat page: the page itself, its static files, streamed answers and feedback."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from indexer.errors import InvalidRequest, NotFound, PlanqaError
from service import deps, metrics
from service.feedback import MAX_COMMENT, Feedback, FeedbackStore
from service.limits import ClientGone, run_unless_gone
from service.schemas import MAX_TEXT, TEXT_SCHEMA, AskRequest, Text, valid_text

log = logging.getLogger("planqa.chat")

STATIC_DIR = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_SAFE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.[a-z]+")
# Everything the page loads comes from this origin, so even a rendering bug that let server
# text become markup could not run inline script.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_SENTENCE_END = re.compile(r"(?<=[。！？；\n])")
ANSWER_CHUNKS = 4
MAX_ANSWER = 20_000
MAX_PASSAGE_IDS = 50
# SQLite's OFFSET is a signed 64-bit integer; far below that, an offset past the end is just empty.
MAX_OFFSET = 1_000_000_000

# A cited passage id, e.g. langfang-eco-plan:0040; the spec states the same bounds the validator keeps.
PassageId = Annotated[Text, Field(json_schema_extra={"minLength": 1, "maxLength": 200, "pattern": r"\S"})]

router = APIRouter()


# ---------------------------------------------------------------- the page and its files


@router.get("/", include_in_schema=False)
def index_page() -> FileResponse:
    page = STATIC_DIR / "index.html"
    return FileResponse(page, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    suffix = Path(name).suffix
    path = STATIC_DIR / name
    if not _SAFE_NAME.fullmatch(name) or suffix not in _STATIC_TYPES or not path.is_file():
        raise HTTPException(status_code=404, detail=f"no static file named {name!r}")
    return FileResponse(path, media_type=_STATIC_TYPES[suffix], headers=_PAGE_HEADERS)


# ---------------------------------------------------------------- streamed answers


def sse_event(event: str, data: object) -> str:
    """One Server-Sent Event; JSON never contains a raw newline, so one data line suffices."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def answer_chunks(answer: str, parts: int = ANSWER_CHUNKS) -> list[str]:
    """Split an answer at sentence ends into at most `parts` pieces of similar length.

    Splitting only after 。！？； or a newline keeps [n] markers and numbers whole.
    """
    pieces = [p for p in _SENTENCE_END.split(answer) if p]
    if len(pieces) <= 1:
        return pieces or [""]
    target = max(1, -(-len(answer) // parts))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        current += piece
        if len(current) >= target and len(chunks) < parts - 1:
            chunks.append(current)
            current = ""
    if current:
        chunks.append(current)
    return chunks


def _error_body(request: Request, code: str, detail: str, allowed: list[str] | None = None) -> dict[str, Any]:
    return {
        "error": code,
        "detail": detail,
        "allowed": allowed or [],
        "request_id": str(getattr(request.state, "request_id", "") or ""),
    }


async def _ask_events(request: Request, engine: Any, body: AskRequest) -> AsyncIterator[str]:
    # A comment line first: the browser gets headers and can show progress before retrieval ends.
    yield ": searching\n\n"
    try:
        payload: dict[str, Any] = await run_unless_gone(
            request, engine.ask_payload, body.question, top_k=body.top_k, doc_ids=body.doc_ids
        )
    except ClientGone:
        return
    except NotFound as exc:
        yield sse_event("error", _error_body(request, "not_found", str(exc), exc.allowed))
        return
    except InvalidRequest as exc:
        yield sse_event("error", _error_body(request, "invalid_request", str(exc), exc.allowed))
        return
    except PlanqaError as exc:
        log.warning("streamed ask failed: %s", exc)
        yield sse_event("error", _error_body(request, "unavailable", str(exc)))
        return
    except Exception:
        log.exception("streamed ask failed")
        yield sse_event("error", _error_body(request, "internal", "服务器内部错误，请稍后重试。"))
        return
    metrics.count_answer(payload)
    head = {k: v for k, v in payload.items() if k not in ("answer", "took_ms")}
    yield sse_event("citations", head)
    for chunk in answer_chunks(str(payload.get("answer", ""))):
        yield sse_event("answer", {"text": chunk})
    yield sse_event("done", payload)


@router.post(
    "/api/ask/stream",
    dependencies=[Depends(deps.require_api_key)],
    summary="Ask a question; the answer arrives as Server-Sent Events",
    description=(
        "Events, in order: `citations` (citations, related, targets, abstained, county, zone, sector), "
        'one or more `answer` ({"text": chunk}; concatenated they form the answer), then `done` with '
        "the same JSON that POST /api/ask returns. A failure after the stream began arrives as an "
        "`error` event carrying the usual error body."
    ),
    response_class=StreamingResponse,
)
async def ask_stream(
    request: Request, body: AskRequest, engine: Annotated[Any, Depends(deps.get_engine)]
) -> StreamingResponse:
    if deps.get_app_settings(request).log_questions:
        log.info("question: %s", body.question)
    return StreamingResponse(
        _ask_events(request, engine, body),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- feedback


class FeedbackIn(BaseModel):
    question: str = Field(description="The question that was answered", json_schema_extra=TEXT_SCHEMA)
    answer: Text = Field(max_length=MAX_ANSWER, description="The answer text shown")
    rating: Literal["up", "down"]
    comment: Text = Field(default="", max_length=MAX_COMMENT)
    passage_ids: list[PassageId] = Field(default_factory=list, max_length=MAX_PASSAGE_IDS)

    @field_validator("question")
    @classmethod
    def _check_question(cls, v: str) -> str:
        text = valid_text(v).strip()
        if not text or len(text) > MAX_TEXT:
            raise ValueError(f"question must have 1–{MAX_TEXT} characters after trimming")
        return text

    @field_validator("comment")
    @classmethod
    def _trim_comment(cls, v: str) -> str:
        return v.strip()

    @field_validator("passage_ids")
    @classmethod
    def _check_ids(cls, v: list[str]) -> list[str]:
        if any(not p.strip() or len(p) > 200 for p in v):
            raise ValueError("passage_ids must be non-empty strings of at most 200 characters")
        return v


class FeedbackCreated(BaseModel):
    id: int


class FeedbackItem(BaseModel):
    id: int
    created_at: str
    question: str
    answer: str
    rating: Literal["up", "down"]
    comment: str
    passage_ids: list[str]


class FeedbackPage(BaseModel):
    items: list[FeedbackItem]
    total: int
    limit: int
    offset: int


def get_feedback_store(request: Request) -> FeedbackStore:
    store = getattr(request.app.state, "feedback_store", None)
    if store is None:
        store = FeedbackStore.in_data_dir(deps.get_app_settings(request).data_dir)
        request.app.state.feedback_store = store
    return store


def _item(fb: Feedback) -> FeedbackItem:
    return FeedbackItem(
        id=fb.id,
        created_at=fb.created_at,
        question=fb.question,
        answer=fb.answer,
        rating="up" if fb.rating == "up" else "down",
        comment=fb.comment,
        passage_ids=list(fb.passage_ids),
    )


@router.post(
    "/api/feedback",
    status_code=201,
    response_model=FeedbackCreated,
    dependencies=[Depends(deps.require_api_key)],
    summary="Record a thumbs up or down on an answer",
)
def post_feedback(
    body: FeedbackIn, store: Annotated[FeedbackStore, Depends(get_feedback_store)]
) -> FeedbackCreated:
    saved = store.add(body.question, body.answer, body.rating, body.comment, body.passage_ids)
    return FeedbackCreated(id=saved.id)


@router.get(
    "/api/feedback",
    response_model=FeedbackPage,
    # Officials' questions and comments are for the operator only, not for every API key.
    dependencies=[Depends(deps.require_admin_key)],
    summary="List recorded feedback, newest first (admin key)",
)
def list_feedback(
    store: Annotated[FeedbackStore, Depends(get_feedback_store)],
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> FeedbackPage:
    items, total = store.recent(limit=limit, offset=offset)
    return FeedbackPage(items=[_item(f) for f in items], total=total, limit=limit, offset=offset)
