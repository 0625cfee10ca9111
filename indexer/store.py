"""The index on disk: generations built beside the live one, cached embeddings, verified on load."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import __version__, generations
from .cache import EmbeddingCache, cache_path, embed_with_cache
from .channels import CHANNEL_WRITERS, Channels, ChannelSource, EmbedFn, load_channels
from .corpus import Corpus, index_text, load_corpus
from .dense import DenseIndex
from .docstore import corpus_source
from .embed import usable_cpus
from .embed_pool import Loader, lazy_pool
from .errors import BuildError, IndexError_
from .generations import FIX, MANIFEST
from .records import Passage
from .sparse import SparseIndex

if TYPE_CHECKING:
    from .embed import Embedder
    from .settings import Settings

__all__ = ["MANIFEST", "EmbeddingCache", "LoadedIndex", "build_index", "embed_with_cache", "load_index"]

FORMAT = 2
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LoadedIndex:
    corpus: Corpus
    sparse: SparseIndex
    dense: DenseIndex
    manifest: dict[str, object]
    channels: Channels | None = None


@dataclass(frozen=True)
class BuildInput:
    """What every artefact writer gets: the corpus, its passages, their index texts, and the
    store's cached embedding (texts in; vectors and how many had to be computed out)."""

    corpus: Corpus
    passages: list[Passage]
    texts: list[str]
    embed: EmbedFn


Figures = dict[str, object]


def sentence_flags(corpus: Corpus) -> list[bool]:
    """Which passages get sentence vectors: those of core documents.

    Sentence vectors are the costliest artefact to build (every sentence of a law library) and
    the vectors every search scans, for the channel that mostly serves everyday
    questions about the plan."""
    core = {d.meta.id for d in corpus.documents if d.meta.tier == "core"}
    return [p.doc_id in core for p in corpus.passages]


def _write_dense(directory: Path, data: BuildInput) -> Figures:
    vectors, computed = data.embed(data.texts)
    DenseIndex.build(vectors).save(directory / "dense.faiss")
    return {"dimension": int(vectors.shape[1]), "embeddings_computed": computed}


def _write_sparse(directory: Path, data: BuildInput) -> Figures:
    SparseIndex.build(data.texts).save(directory / "bm25")
    return {}


def _write_passage_ids(directory: Path, data: BuildInput) -> Figures:
    (directory / "passage_ids.json").write_text(json.dumps([p.id for p in data.passages]), encoding="utf-8")
    return {}


def _write_channels(directory: Path, data: BuildInput) -> Figures:
    src = ChannelSource(
        [p.text for p in data.passages],
        data.texts,
        [d.text for d in data.corpus.documents],
        data.embed,
        sentence_flags(data.corpus),
    )
    figures: Figures = {}
    for write in CHANNEL_WRITERS:
        figures.update(write(directory, src))
    return figures


# Each writer builds one artefact into the generation directory being built, saves it and drops
# it before the next runs (a build holds one artefact at a time, besides the corpus); every file
# there is checksummed into the manifest, so a new artefact needs only a writer here (and a reader).
ARTEFACTS: list[Callable[[Path, BuildInput], Figures]] = [
    _write_dense,
    _write_sparse,
    _write_passage_ids,
    _write_channels,
]


def build_index(
    settings: Settings,
    embedder: Embedder,
    corpus: Corpus | None = None,
    progress: Progress | None = None,
    on_wait: Callable[[int], None] | None = None,
    only_if_stale: bool = False,
    pool_loader: Loader | None = None,
) -> dict[str, object]:
    """Builds a new generation beside the live one and switches to it; returns its manifest.

    Builds of one index directory are serialised by a file lock (``on_wait`` is told the pid
    of a build being waited for). The live generation is never touched; a failed or killed
    build leaves nothing but a staging directory, removed by the next build, and the vectors it
    embedded, which the cache keeps for the rerun. With ``only_if_stale`` a live generation
    that is fresh and intact is kept (``"reused": True``); that check runs under the lock, so
    processes starting together build once. With ``pool_loader`` a big build embeds in worker
    processes (``indexer.embed_pool``).
    """
    root = settings.resolved_index_dir
    with generations.build_lock(root, on_wait):
        started = time.time()
        corpus = corpus or load_corpus(corpus_source(settings))
        if only_if_stale:
            try:
                return {**check_live(settings, embedder.model_id, corpus)[1], "reused": True}
            except IndexError_:
                pass
        passages = corpus.passages
        texts = [index_text(p) for p in passages]
        try:
            with (
                EmbeddingCache(cache_path(settings.data_dir, embedder.model_id)) as cache,
                lazy_pool(pool_loader, settings.embed_workers, usable_cpus(), embedder.model_id) as pool_for,
                generations.staging(root) as (generation, tmp),
            ):

                def embed(ts: Sequence[str]) -> tuple[np.ndarray, int]:
                    return embed_with_cache(embedder, ts, cache, settings.embed_chunk, progress, pool_for)

                data = BuildInput(corpus, passages, texts, embed)
                figures: Figures = {}
                for write in ARTEFACTS:
                    figures.update(write(tmp, data))
                manifest: dict[str, object] = {
                    "format": FORMAT,
                    "planqa_version": __version__,
                    "corpus_fingerprint": corpus.fingerprint,
                    "model_id": embedder.model_id,
                    "dimension": figures.pop("dimension", embedder.dim),
                    "passages": len(passages),
                    "documents": len(corpus.documents),
                    "embeddings_computed": figures.pop("embeddings_computed", 0),
                    **figures,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "build_seconds": round(time.time() - started, 2),
                    "build_window": [started, time.time()],
                }
                return generations.publish(root, generation, tmp, manifest)
        except Exception as exc:
            if not isinstance(exc, BuildError) and generations._no_space(exc, settings.data_dir):
                raise generations.no_space_error(settings.data_dir) from exc
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def read_manifest(directory: Path) -> dict[str, object]:
    """The manifest of one generation directory."""
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexError_(f"index {directory} has no {MANIFEST}: the index is damaged; {FIX}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexError_(f"index manifest {path} is unreadable ({exc}): {FIX}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexError_(f"index manifest {path} has an unknown format: {FIX}")
    return data


def check_fresh(manifest: dict[str, object], corpus: Corpus, model_id: str, index_dir: Path) -> None:
    if manifest.get("corpus_fingerprint") != corpus.fingerprint:
        raise IndexError_(
            f"index {index_dir} was built from another version of the corpus "
            f"(a document or the corpus manifest changed since): {FIX}"
        )
    if manifest.get("model_id") != model_id:
        raise IndexError_(
            f"index {index_dir} was built with model {manifest.get('model_id')!r}, "
            f"but {model_id!r} is configured: {FIX}"
        )


def check_live(
    settings: Settings, model_id: str, corpus: Corpus, generation: str | None = None
) -> tuple[Path, dict[str, object]]:
    """The live (or the named) generation and its manifest, once it is fresh and intact."""
    root = settings.resolved_index_dir
    directory = generations.generation_dir(root, generation) if generation else generations.live_dir(root)
    if not directory.is_dir():
        raise IndexError_(f"index generation {directory} does not exist: {FIX}")
    manifest = read_manifest(directory)
    check_fresh(manifest, corpus, model_id, directory)
    generations.verify(directory, manifest)
    return directory, manifest


def load_index(
    settings: Settings, model_id: str, corpus: Corpus | None = None, generation: str | None = None
) -> LoadedIndex:
    """Loads the live generation (or ``generation``), refusing a stale or damaged one."""
    corpus = corpus or load_corpus(corpus_source(settings))
    with generations.reading(settings.resolved_index_dir):
        directory, manifest = check_live(settings, model_id, corpus, generation)
        try:
            ids = json.loads((directory / "passage_ids.json").read_text(encoding="utf-8"))
            dense = DenseIndex.load(directory / "dense.faiss")
            sparse = SparseIndex.load(directory / "bm25")
            channels = load_channels(directory, len(ids))
        except Exception as exc:  # any unreadable part means the same fix
            raise IndexError_(f"index {directory} is damaged ({exc}): {FIX}") from exc
    if ids != [p.id for p in corpus.passages] or dense.size != len(ids):
        raise IndexError_(f"index {directory} does not match the corpus passages: {FIX}")
    return LoadedIndex(corpus, sparse, dense, manifest, channels)
