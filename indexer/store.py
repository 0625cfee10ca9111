"""The index on disk: built atomically, cached embeddings reused, verified on load."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import __version__
from .corpus import Corpus, index_text, load_corpus
from .dense import DenseIndex
from .docstore import corpus_source
from .errors import IndexError_
from .sparse import SparseIndex

if TYPE_CHECKING:
    from .embed import Embedder
    from .settings import Settings

MANIFEST = "manifest.json"
FORMAT = 1
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LoadedIndex:
    corpus: Corpus
    sparse: SparseIndex
    dense: DenseIndex
    manifest: dict[str, object]


def _key(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\0{text}".encode()).hexdigest()[:32]


class EmbeddingCache:
    """Passage vectors keyed by (model, text), so rebuilding an unchanged corpus costs seconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            try:
                with np.load(path) as data:
                    self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
            except (OSError, ValueError, KeyError):
                self.vectors = {}  # a damaged cache is only a lost speed-up

    def save(self) -> None:
        if not self.vectors:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors))
        vecs = np.stack(list(self.vectors.values())).astype(np.float32)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, keys=keys, vectors=vecs)
        os.replace(tmp, self.path)


def embed_with_cache(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache,
    batch_size: int = 16,
    progress: Progress | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``; returns them and how many had to be computed."""
    keys = [_key(embedder.model_id, t) for t in texts]
    missing = sorted({k: i for i, k in enumerate(keys) if k not in cache.vectors}.values())
    done = 0
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        vecs = embedder.embed([texts[i] for i in batch], kind="passage")
        for i, v in zip(batch, vecs, strict=True):
            cache.vectors[keys[i]] = np.asarray(v, dtype=np.float32)
        done += len(batch)
        if progress:
            progress(done, len(missing))
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32), 0
    return np.stack([cache.vectors[k] for k in keys]), len(missing)


def _slug(model_id: str) -> str:
    return hashlib.sha256(model_id.encode()).hexdigest()[:12]


def build_index(
    settings: Settings,
    embedder: Embedder,
    corpus: Corpus | None = None,
    progress: Progress | None = None,
) -> dict[str, object]:
    """Builds the whole index into a temporary directory, then renames it into place."""
    t0 = time.perf_counter()
    corpus = corpus or load_corpus(corpus_source(settings))
    passages = corpus.passages
    texts = [index_text(p) for p in passages]
    cache = EmbeddingCache(settings.data_dir / "cache" / f"embeddings-{_slug(embedder.model_id)}.npz")
    vectors, computed = embed_with_cache(embedder, texts, cache, settings.embed_batch_size, progress)
    cache.save()

    target = settings.resolved_index_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        DenseIndex.build(vectors).save(tmp / "dense.faiss")
        SparseIndex.build(texts).save(tmp / "bm25")
        (tmp / "passage_ids.json").write_text(json.dumps([p.id for p in passages]), encoding="utf-8")
        manifest: dict[str, object] = {
            "format": FORMAT,
            "planqa_version": __version__,
            "corpus_fingerprint": corpus.fingerprint,
            "model_id": embedder.model_id,
            "dimension": int(vectors.shape[1]) if len(vectors) else embedder.dim,
            "passages": len(passages),
            "documents": len(corpus.documents),
            "embeddings_computed": computed,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "build_seconds": round(time.perf_counter() - t0, 2),
        }
        # The manifest is written last: a directory without one is never a usable index.
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def read_manifest(index_dir: Path) -> dict[str, object]:
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexError_(f"no index at {index_dir}: run `planqa index` to build it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexError_(f"index manifest {path} is unreadable ({exc}): run `planqa index`") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexError_(f"index at {index_dir} has an unknown format: run `planqa index`")
    return data


def check_fresh(manifest: dict[str, object], corpus: Corpus, model_id: str, index_dir: Path) -> None:
    if manifest.get("corpus_fingerprint") != corpus.fingerprint:
        raise IndexError_(
            f"index at {index_dir} was built from another version of the corpus: run `planqa index`"
        )
    if manifest.get("model_id") != model_id:
        raise IndexError_(
            f"index at {index_dir} was built with model {manifest.get('model_id')!r}, "
            f"but {model_id!r} is configured: run `planqa index`"
        )


def load_index(settings: Settings, model_id: str, corpus: Corpus | None = None) -> LoadedIndex:
    index_dir = settings.resolved_index_dir
    manifest = read_manifest(index_dir)
    corpus = corpus or load_corpus(corpus_source(settings))
    check_fresh(manifest, corpus, model_id, index_dir)
    try:
        ids = json.loads((index_dir / "passage_ids.json").read_text(encoding="utf-8"))
        dense = DenseIndex.load(index_dir / "dense.faiss")
        sparse = SparseIndex.load(index_dir / "bm25")
    except Exception as exc:  # any unreadable part means the same fix
        raise IndexError_(f"index at {index_dir} is damaged ({exc}): run `planqa index`") from exc
    if ids != [p.id for p in corpus.passages] or dense.size != len(ids):
        raise IndexError_(f"index at {index_dir} does not match the corpus passages: run `planqa index`")
    return LoadedIndex(corpus, sparse, dense, manifest)
