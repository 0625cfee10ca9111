"""Request and response models of the HTTP API (the only place pydantic models live)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

Mode = Literal["hybrid", "bm25", "dense"]
MAX_TEXT = 500
# What the spec says of a question or query: 1–500 characters, at least one not blank.
TEXT_SCHEMA: dict[str, Any] = {"minLength": 1, "maxLength": MAX_TEXT, "pattern": r"\S"}


def valid_text(value: str) -> str:
    """Refuse text that is not valid Unicode (a lone surrogate such as "\\ud800" in the JSON).

    Python's JSON parser lets such strings through, and they fail later, when the tokenizer, the
    feedback database or the response encoder meets them.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"contains an unpaired surrogate at character {exc.start}, which is not valid Unicode text"
        ) from None
    return value


Text = Annotated[str, AfterValidator(valid_text)]


def _trimmed(value: str, what: str) -> str:
    if len(value) > MAX_TEXT:
        raise ValueError(f"{what} has {len(value)} characters; at most {MAX_TEXT} are allowed")
    valid_text(value)
    text = value.strip()
    if not text:
        raise ValueError(f"{what} must not be empty (1–{MAX_TEXT} characters after trimming)")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{what} has {len(text)} characters; at most {MAX_TEXT} are allowed")
    return text


class AskRequest(BaseModel):
    question: str = Field(
        description="The question, 1–500 characters, not all blank", json_schema_extra=TEXT_SCHEMA
    )
    top_k: int = Field(default=5, ge=1, le=20)
    doc_ids: list[Text] | None = Field(
        default=None, description="Only cite these documents (ids from /api/documents)"
    )

    @field_validator("question")
    @classmethod
    def _check_question(cls, v: str) -> str:
        return _trimmed(v, "question")


class SearchRequest(BaseModel):
    query: str = Field(
        description="The search text, 1–500 characters, not all blank", json_schema_extra=TEXT_SCHEMA
    )
    top_k: int = Field(default=10, ge=1, le=20)
    mode: Mode = "hybrid"
    doc_ids: list[Text] | None = Field(default=None, description="Only search these documents")

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
    category: str = ""  # the indicator table's category (环境治理 …), for table rows


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


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: str = Field(description="A stable machine-readable code, e.g. validation_error, not_found")
    detail: str = Field(description="What was wrong and how to fix it, in words")
    allowed: list[str] = Field(description="The accepted values, when the error is about a choice")
    request_id: str = Field(description="Quote it when reporting a problem; it is in the server log")
