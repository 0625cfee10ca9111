"""Document metadata: defaults for title and kind taken from the file, overridable by the caller."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath

from .clean import split_blocks
from .extract import Extracted
from .records import DocumentMeta

TIERS = ("core", "reference")
KINDS = ("plan", "law", "regulation", "measures", "standard", "notice", "other")
# Checked in this order: 办法 ends in 法 but is not a law; 实施方案 is a plan-like scheme.
_KIND_WORDS: tuple[tuple[str, str], ...] = (
    ("办法", "measures"),
    ("细则", "measures"),
    ("条例", "regulation"),
    ("规定", "regulation"),
    ("规则", "regulation"),
    ("守则", "regulation"),
    ("标准", "standard"),
    ("通知", "notice"),
    ("规划", "plan"),
    ("方案", "plan"),
    ("计划", "plan"),
)
# 中华人民共和国民法典, 刑法修正案（十一）, 某某法（试行）.
_LAW = re.compile(r"法(?:典)?(?:修正案)?(?:[（(][^（）()]*[）)])?$")
_ID_OK = re.compile(r"[^a-z0-9]+")


def kind_from_title(title: str) -> str:
    """法 / 条例 / 规划 / 办法 / 标准 / 通知 in the title → the document kind."""
    title = title.strip().strip("《》")
    for word, kind in _KIND_WORDS:
        if word in title:
            return kind
    return "law" if _LAW.search(title) else "other"


def default_title(extracted: Extracted, filename: str) -> str:
    """The file's own title (front matter, H1, Title style, PDF metadata), else its first heading."""
    if extracted.title.strip():
        return extracted.title.strip()
    for block in split_blocks(extracted.text, reflow=extracted.reflow):
        if block.kind not in ("paragraph", "article", "table"):
            return block.text
        break
    return PurePath(filename).stem


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def suggest_id(filename: str, digest: str, taken: set[str]) -> str:
    """A readable id from an ASCII file name (``air-plan.docx`` → ``air-plan``), else from the hash."""
    stem = _ID_OK.sub("-", PurePath(filename).stem.lower()).strip("-")[:60]
    base = stem if len(stem) >= 3 else f"doc-{digest[:10]}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def build_meta(
    doc_id: str,
    file: str,
    data: bytes,
    extracted: Extracted,
    title: str | None = None,
    kind: str | None = None,
    issuer: str | None = None,
    version_date: str | None = None,
    tier: str | None = None,
) -> DocumentMeta:
    from .errors import InvalidRequest

    title = (title or "").strip() or default_title(extracted, file)
    kind = (kind or "").strip() or kind_from_title(title)
    if kind not in KINDS:
        raise InvalidRequest(f"unknown document kind {kind!r}", allowed=list(KINDS))
    tier = (tier or "").strip() or TIERS[0]
    if tier not in TIERS:
        raise InvalidRequest(f"unknown document tier {tier!r}", allowed=list(TIERS))
    return DocumentMeta(
        id=doc_id,
        title=title,
        kind=kind,
        issuer=(issuer or extracted.issuer).strip(),
        version_date=(version_date or extracted.version_date).strip(),
        file=file,
        format=extracted.format,
        sha256=sha256_hex(data),
        tier=tier,
    )
