"""Parses every document of the manifest into passages (the pure middle of the pipeline)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .laws import parse_law
from .manifest import read_manifest
from .plan import parse_plan
from .records import DocumentMeta, Indicator, ParsedDocument, Passage

# Bump when parsing or chunking changes, so an index built by older code is rebuilt.
PARSER_VERSION = "5"


@dataclass(frozen=True)
class Corpus:
    documents: tuple[ParsedDocument, ...]
    indicators: tuple[Indicator, ...]
    fingerprint: str

    @property
    def passages(self) -> list[Passage]:
        return [p for d in self.documents for p in d.passages]

    def meta(self, doc_id: str) -> DocumentMeta:
        for d in self.documents:
            if d.meta.id == doc_id:
                return d.meta
        raise KeyError(doc_id)


def parse_document(meta: DocumentMeta, raw: str) -> tuple[ParsedDocument, tuple[Indicator, ...]]:
    if meta.kind == "plan":
        parsed = parse_plan(meta, raw)
        return parsed.document, parsed.indicators
    return parse_law(meta, raw), ()


def parse_sources(sources: list[tuple[DocumentMeta, str]]) -> Corpus:
    docs: list[ParsedDocument] = []
    indicators: list[Indicator] = []
    digest = hashlib.sha256(f"parser={PARSER_VERSION}".encode())
    for meta, raw in sources:
        doc, inds = parse_document(meta, raw)
        docs.append(doc)
        indicators.extend(inds)
        digest.update(repr(meta).encode())
        digest.update(hashlib.sha256(raw.encode()).digest())
    return Corpus(tuple(docs), tuple(indicators), digest.hexdigest()[:16])


def load_corpus(corpus_dir: Path) -> Corpus:
    """Reads the manifest and files (the I/O edge), then parses them."""
    metas = read_manifest(corpus_dir)
    return parse_sources([(m, (corpus_dir / m.file).read_text(encoding="utf-8")) for m in metas])


def index_text(passage: Passage) -> str:
    """What retrieval sees: the passage with its nearest headings and topic as context."""
    context = [s for s in passage.section[-2:] if s not in passage.text]
    if passage.topic and passage.topic not in passage.text:
        context.append(passage.topic)
    if passage.kind == "table_row":
        context.append("规划主要指标 2020年 2025年 指标属性")
    return " ".join([*context, passage.text])
