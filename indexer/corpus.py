"""Parses every document of the manifest into passages (the pure middle of the pipeline)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from .extract import detect_format, extract
from .manifest import read_manifest
from .records import DocumentMeta, Indicator, ParsedDocument, Passage
from .structure import parse_structure

# Bump when parsing or chunking changes, so an index built by older code is rebuilt.
PARSER_VERSION = "6"


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


def parse_document(
    meta: DocumentMeta, data: bytes, max_bytes: int | None = None
) -> tuple[ParsedDocument, tuple[Indicator, ...]]:
    """One original file → its passages: the same path for shipped and uploaded documents."""
    extracted = extract(meta.file, data) if max_bytes is None else extract(meta.file, data, max_bytes)
    return parse_structure(meta, extracted.text, extracted.reflow)


def parse_sources(sources: list[tuple[DocumentMeta, bytes]]) -> Corpus:
    docs: list[ParsedDocument] = []
    indicators: list[Indicator] = []
    digest = hashlib.sha256(f"parser={PARSER_VERSION}".encode())
    for meta, data in sources:
        doc, inds = parse_document(meta, data, max_bytes=max(len(data), 1))
        docs.append(doc)
        indicators.extend(inds)
        digest.update(repr(meta).encode())
        digest.update(hashlib.sha256(data).digest())
    return Corpus(tuple(docs), tuple(indicators), digest.hexdigest()[:16])


def load_corpus(corpus_dir: Path) -> Corpus:
    """Reads a corpus directory (the I/O edge), then parses it.

    ``corpus_dir`` is either the shipped corpus (``manifest.toml``) or a document store
    (``documents.json``, see ``indexer.docstore``); both go through ``parse_document``.
    """
    from .docstore import STORE_MANIFEST, store_sources

    if (corpus_dir / STORE_MANIFEST).is_file():
        return parse_sources(store_sources(corpus_dir))
    sources = []
    for meta in read_manifest(corpus_dir):
        data = (corpus_dir / meta.file).read_bytes()
        fmt = detect_format(meta.file, data)
        sources.append((replace(meta, format=fmt, sha256=hashlib.sha256(data).hexdigest()), data))
    return parse_sources(sources)


def index_text(passage: Passage) -> str:
    """What retrieval sees: the passage with its nearest headings and topic as context."""
    context = [s for s in passage.section[-2:] if s not in passage.text]
    if passage.topic and passage.topic not in passage.text:
        context.append(passage.topic)
    if passage.kind == "table_row":
        context.append("规划主要指标 2020年 2025年 指标属性")
    return " ".join([*context, passage.text])
