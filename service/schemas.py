"""Request and response models of the HTTP API (the only place pydantic models live)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

Mode = Literal["hybrid", "bm25", "dense"]
MAX_TEXT = 500


def _trimmed(value: str, what: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError(f"{what} must not be empty (1–{MAX_TEXT} characters after trimming)")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} has {len(text)} characters; at most {MAX_TEXT} are allowed")
    return text


class AskRequest(BaseModel):
    question: str = Field(description="The question, 1–500 characters after trimming")
    top_k: int = Field(default=5, ge=1, le=20)
    doc_ids: list[str] | None = None

    @field_validator("question")
    @classmethod
    def _check_question(cls, v: str) -> str:
        return _trimmed(v, "question")


class SearchRequest(BaseModel):
    query: str = Field(description="The search text, 1–500 characters after trimming")
    top_k: int = Field(default=10, ge=1, le=20)
    mode: Mode = "hybrid"
    doc_ids: list[str] | None = None

    @field_validator("query")
    @classmethod
    def _check_query(cls, v: str) -> str:
        return _trimmed(v, "query")


class CitationOut(BaseModel):
    n: int
    passage_id: str
    doc_id: str
    doc_title: str
    section: str
    text: str
    quote: str
    score: float


class TargetOut(BaseModel):
    id: str
    what: str
    value: str
    unit: str
    year: str
    baseline: str = ""
    attribute: str = ""
    scope: str = "全市"
    scope_kind: str = "city"  # city | zone | county | sector
    why: str = ""  # why it applies to the asked county or sector
    passage_id: str = ""
    section: str = ""
    quote: str = ""


class AskResponse(BaseModel):
    question: str
    answer: str
    abstained: bool
    citations: list[CitationOut]
    related: list[CitationOut] = []
    targets: list[TargetOut] = []
    took_ms: float
    county: str | None = None
    zone: str | None = None
    sector: str | None = None


class SearchResponse(BaseModel):
    results: list[CitationOut]
    took_ms: float = 0.0


class ErrorOut(BaseModel):
    error: str
    detail: str
    allowed: list[str] = []
    request_id: str = ""
