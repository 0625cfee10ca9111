"""Helpers for the index-lifecycle tests: small corpora, a fake embedder, file fingerprints."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from indexer.settings import REPO_ROOT

SMALL_DOCS = (
    "environmental-protection-tax-law",
    "construction-project-environmental-protection-regulations",
    "carbon-emissions-trading-interim-regulations",
)


def small_corpus(target: Path, doc_ids: Sequence[str] = SMALL_DOCS) -> Path:
    """A corpus directory with only ``doc_ids`` of the shipped corpus (same files, same metadata)."""
    source = REPO_ROOT / "corpus"
    entries = tomllib.loads((source / "manifest.toml").read_text(encoding="utf-8"))["documents"]
    lines = []
    for entry in entries:
        if entry["id"] not in doc_ids:
            continue
        (target / entry["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / entry["file"], target / entry["file"])
        lines.append("[[documents]]")
        lines += [f'{k} = "{entry[k]}"' for k in ("id", "title", "kind", "issuer", "version_date", "file")]
        lines.append("")
    target.mkdir(parents=True, exist_ok=True)
    (target / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")
    return target


class FakeEmbedder:
    """Deterministic unit vectors from a text hash: fast, and enough to test storage, not meaning."""

    model_id = "fake-hash-embedder"
    dim = 16

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.embedded = 0
        self.fail_after = fail_after

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("embedder stopped (simulated crash)")
        self.calls += 1
        self.embedded += len(texts)
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


def fingerprint(directory: Path) -> dict[str, str]:
    """Hash of every file below ``directory``: equal before and after means untouched."""
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }
