"""Reads corpus/manifest.toml: the single list of documents planqa serves."""

from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import CorpusError
from .metadata import KINDS
from .records import DocumentMeta

_REQUIRED = ("id", "title", "kind", "issuer", "version_date", "file")


def read_manifest(corpus_dir: Path) -> list[DocumentMeta]:
    path = corpus_dir / "manifest.toml"
    if not path.is_file():
        raise CorpusError(f"no corpus manifest at {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path} is not valid TOML: {exc}") from exc
    docs: list[DocumentMeta] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw.get("documents", [])):
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise CorpusError(f"{path}: documents[{i}] lacks {', '.join(missing)}")
        if entry["kind"] not in KINDS:
            raise CorpusError(
                f"{path}: document {entry['id']!r} has kind {entry['kind']!r}; allowed: {KINDS}"
            )
        if entry["id"] in seen:
            raise CorpusError(f"{path}: duplicate document id {entry['id']!r}")
        if not (corpus_dir / entry["file"]).is_file():
            raise CorpusError(f"{path}: file {entry['file']!r} of {entry['id']!r} does not exist")
        seen.add(entry["id"])
        docs.append(DocumentMeta(**{k: str(entry[k]) for k in _REQUIRED}))
    if not docs:
        raise CorpusError(f"{path} lists no documents")
    return docs
