"""Internal records passed between pipeline stages. Pydantic appears only at the HTTP edge."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DocumentMeta:
    id: str
    title: str
    kind: str  # see indexer.metadata.KINDS
    issuer: str
    version_date: str
    file: str
    format: str = ""  # docx | pdf | md | txt: what the original came in
    sha256: str = ""  # of the original file's bytes
    # core: the plan and the laws it rests on, ranked first; reference: a bulk library beside
    # them, found when asked for but never crowding the core out (see indexer/data/fusion.toml).
    tier: str = "core"


@dataclass(frozen=True)
class Heading:
    level: int  # 1 chapter (一、/第一章), 2 section (（一）/第一节) or 专栏 box, 3 article (第一条)
    title: str
    start: int  # character offset in the cleaned document


@dataclass(frozen=True)
class Passage:
    id: str
    doc_id: str
    section: tuple[str, ...]  # heading path from the chapter down
    text: str
    start: int  # span in the cleaned document: cleaned[start:end] == text
    end: int
    kind: str = "paragraph"  # paragraph | article | table_row | box_item | preamble
    topic: str = ""  # the paragraph's lead sentence ("加强移动污染源管控。") when it has one

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)


@dataclass(frozen=True)
class ParsedDocument:
    meta: DocumentMeta
    text: str  # cleaned text; every passage span points into it
    headings: tuple[Heading, ...]
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Indicator:
    number: int
    category: str  # 环境治理 | 应对气候变化 | 环境风险防控 | 生态保护
    name: str
    unit: str
    baseline_2020: str  # "-" where the table gives none
    target_2025: str
    attribute: str  # 约束性 | 预期性
    passage_id: str = ""


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    rank: int
    doc_title: str = ""
    sources: tuple[str, ...] = field(default_factory=tuple)  # which retrievers found it
