"""The document store under the data directory: originals plus one manifest, written atomically.

Layout: ``<data_dir>/documents/documents.json`` lists every document (its metadata, version
and indexing status); ``files/<id>/v<version><ext>`` holds the original bytes as uploaded.
A fresh install has no store and serves the shipped ``corpus/``; the first write seeds the
store from it, after which the store is what the index is built from. Every write validates
the file completely (extraction and parsing) before anything touches the disk, writes the
original under a temporary name, then replaces the manifest in one ``os.replace``. Writers
are serialised by an exclusive lock on ``documents.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from .errors import CorpusError, DuplicateDocument, EmptyDocument, NotFound
from .records import DocumentMeta

STORE_MANIFEST = "documents.json"
STORE_FORMAT = 1
STATUSES = ("indexing", "ready", "failed")
_META_FIELDS = tuple(DocumentMeta.__dataclass_fields__)
# Fields a store written before they existed lacks: their dataclass default.
_META_DEFAULTS = {
    k: f.default for k, f in DocumentMeta.__dataclass_fields__.items() if isinstance(f.default, str)
}


@dataclass(frozen=True)
class StoredDocument:
    meta: DocumentMeta
    version: int
    status: str  # indexing | ready | failed
    reason: str = ""  # why it failed
    origin: str = "upload"  # upload | seed (copied from the shipped corpus)
    updated_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        # Flat fields copied one level deep: dataclasses.asdict recursed and deep-copied each
        # of them, the largest cost of adding a document to a store of thousands.
        return {
            **{k: getattr(self.meta, k) for k in _META_FIELDS},
            **{k: getattr(self, k) for k in _STORED_FIELDS},
        }


_STORED_FIELDS = tuple(k for k in StoredDocument.__dataclass_fields__ if k != "meta")


def store_dir(data_dir: Path) -> Path:
    return data_dir / "documents"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_store(root: Path) -> list[StoredDocument]:
    path = root / STORE_MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(f"document store manifest {path} is unreadable ({exc})") from exc
    if raw.get("format") != STORE_FORMAT:
        raise CorpusError(f"document store {path} has an unknown format {raw.get('format')!r}")
    out = []
    for entry in raw["documents"]:
        meta = DocumentMeta(**{k: str(entry.get(k) or _META_DEFAULTS.get(k, "")) for k in _META_FIELDS})
        out.append(
            StoredDocument(
                meta,
                int(entry["version"]),
                str(entry["status"]),
                str(entry.get("reason", "")),
                str(entry.get("origin", "upload")),
                str(entry.get("updated_at", "")),
            )
        )
    return out


def store_sources(root: Path) -> list[tuple[DocumentMeta, bytes]]:
    """Metadata and original bytes of every document that can be indexed (not the failed ones)."""
    return [(d.meta, (root / d.meta.file).read_bytes()) for d in read_store(root) if d.status != "failed"]


class DocumentStore:
    def __init__(self, root: Path, seed_dir: Path, max_bytes: int) -> None:
        self.root = root
        self.seed_dir = seed_dir
        self.max_bytes = max_bytes

    @property
    def exists(self) -> bool:
        return (self.root / STORE_MANIFEST).is_file()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[StoredDocument]]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "documents.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not self.exists:
                    self._seed()
                yield read_store(self.root)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _save(self, docs: list[StoredDocument]) -> None:
        # One document per line: as readable as an indented file, and written by json's C
        # encoder, which indenting turns off (adding to a store of thousands rewrote it slowly).
        lines = ",\n".join(json.dumps(d.as_dict(), ensure_ascii=False) for d in docs)
        body = f'{{"format": {STORE_FORMAT}, "documents": [\n{lines}\n]}}\n'
        _write_atomic(self.root / STORE_MANIFEST, body.encode())

    def _file_for(self, doc_id: str, version: int, filename: str) -> str:
        return f"files/{doc_id}/v{version}{PurePath(filename).suffix.lower()}"

    def _seed(self, write: bool = True) -> list[StoredDocument]:
        """The shipped corpus as store entries; copied in on the first write of a fresh install."""
        from .extract import detect_format
        from .manifest import read_manifest
        from .metadata import sha256_hex

        docs = []
        for meta in read_manifest(self.seed_dir):
            data = (self.seed_dir / meta.file).read_bytes()
            file = self._file_for(meta.id, 1, meta.file)
            if write:
                _write_atomic(self.root / file, data)
            seeded = replace(meta, file=file, format=detect_format(meta.file, data), sha256=sha256_hex(data))
            docs.append(StoredDocument(seeded, 1, "ready", origin="seed"))
        if write:
            self._save(docs)
        return docs

    def _validated(self, doc_id: str, file: str, data: bytes, fields: dict[str, str | None]) -> DocumentMeta:
        """Extracts and parses the file completely, so a bad file is refused before any write."""
        from .extract import extract
        from .metadata import build_meta
        from .structure import parse_structure

        extracted = extract(file, data, self.max_bytes)
        meta = build_meta(doc_id, file, data, extracted, **fields)
        parsed, _ = parse_structure(meta, extracted.text, extracted.reflow)
        if not parsed.passages:
            raise EmptyDocument(f"{PurePath(file).name!r} holds no passage of text to index")
        return meta

    @staticmethod
    def _duplicate(docs: list[StoredDocument], digest: str, filename: str) -> None:
        for d in docs:
            if d.meta.sha256 == digest:
                raise DuplicateDocument(
                    f"{filename!r} is already in the knowledge base as {d.meta.id!r} ({d.meta.title})",
                    existing_id=d.meta.id,
                )

    def add(
        self,
        filename: str,
        data: bytes,
        title: str | None = None,
        kind: str | None = None,
        issuer: str | None = None,
        version_date: str | None = None,
        tier: str | None = None,
    ) -> str:
        from .metadata import sha256_hex, suggest_id

        fields = {"title": title, "kind": kind, "issuer": issuer, "version_date": version_date, "tier": tier}
        # Validated before the lock and before a fresh store is seeded: a refused file writes nothing.
        checked = self._validated("new", filename, data, fields)
        with self._locked() as docs:
            digest = sha256_hex(data)
            self._duplicate(docs, digest, filename)
            doc_id = suggest_id(filename, digest, {d.meta.id for d in docs})
            file = self._file_for(doc_id, 1, filename)
            meta = replace(checked, id=doc_id, file=file)
            _write_atomic(self.root / file, data)
            self._save([*docs, StoredDocument(meta, 1, "indexing", updated_at=_now())])
            return doc_id

    def replace(
        self,
        doc_id: str,
        filename: str,
        data: bytes,
        title: str | None = None,
        kind: str | None = None,
        tier: str | None = None,
    ) -> int:
        """A new version of ``doc_id``; its title, kind and tier stay unless given. Returns the version."""
        from .metadata import sha256_hex

        with self._locked() as docs:
            old = self._find(docs, doc_id)
            self._duplicate(docs, sha256_hex(data), filename)
            version = old.version + 1
            file = self._file_for(doc_id, version, filename)
            fields = {
                "title": title or old.meta.title,
                "kind": kind or old.meta.kind,
                "issuer": old.meta.issuer or None,
                "version_date": None,
                "tier": tier or old.meta.tier,
            }
            meta = replace(self._validated(doc_id, filename, data, fields), file=file)
            _write_atomic(self.root / file, data)
            new = StoredDocument(meta, version, "indexing", updated_at=_now())
            self._save([new if d.meta.id == doc_id else d for d in docs])
            with contextlib.suppress(FileNotFoundError):
                (self.root / old.meta.file).unlink()
            return version

    def remove(self, doc_id: str) -> None:
        with self._locked() as docs:
            self._find(docs, doc_id)
            self._save([d for d in docs if d.meta.id != doc_id])
            shutil.rmtree(self.root / "files" / doc_id, ignore_errors=True)

    def set_status(self, doc_ids: list[str], status: str, reason: str = "") -> None:
        assert status in STATUSES
        with self._locked() as docs:
            wanted = set(doc_ids)
            self._save(
                [
                    replace(d, status=status, reason=reason, updated_at=_now()) if d.meta.id in wanted else d
                    for d in docs
                ]
            )

    def documents(self) -> list[StoredDocument]:
        """Every document with its status; a fresh install lists the shipped corpus without writing."""
        return read_store(self.root) if self.exists else self._seed(write=False)

    @staticmethod
    def _find(docs: list[StoredDocument], doc_id: str) -> StoredDocument:
        for d in docs:
            if d.meta.id == doc_id:
                return d
        raise NotFound(f"unknown document {doc_id!r}", allowed=[d.meta.id for d in docs])


def open_store(settings: Any) -> DocumentStore:
    return DocumentStore(store_dir(settings.data_dir), settings.corpus_dir, settings.max_upload_bytes)


def corpus_source(settings: Any) -> Path:
    """Where the index is built from: the store once it exists, else the shipped corpus."""
    root = store_dir(settings.data_dir)
    return root if (root / STORE_MANIFEST).is_file() else Path(settings.corpus_dir)
