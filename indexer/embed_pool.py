"""Embedding for large builds: one single-threaded embedder per CPU, each in its own process.

At this model's size the runtimes' intra-op threads scale poorly, and tokenising and padding
hold the GIL. Measured on 2 cores over 400 corpus passages (bench/results/latest.md, the
embedding section): ONNX int8 embeds 41 passages/s as one process with two threads and 71/s as
two processes with one thread each; fp32 27/s and 34/s.

Workers load their model from the same settings as the parent, so they compute the parent's
vectors; each answer carries the worker's model id, and a mismatch stops the build.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from .embed import Embedder, Kind
    from .settings import Settings

# Makes the embedder inside a worker; must be picklable (a module-level function or a partial).
Loader = Callable[[], "Embedder"]
# Below this many texts to compute, starting the workers (a model load each) costs more than
# they save, and an upload stays in the calling process.
MIN_TEXTS = 1000

_worker: Embedder | None = None


def _load_single_threaded(settings: Settings) -> Embedder:
    from .embed import load_embedder

    # A worker embeds passages only, so it never needs the int8 question model.
    return load_embedder(settings.model_copy(update={"embed_threads": 1, "query_precision": "fp32"}))


def settings_loader(settings: Settings) -> Loader:
    """Workers that load the embedder ``settings`` choose, with one thread each."""
    return functools.partial(_load_single_threaded, settings)


def _init(loader: Loader) -> None:
    global _worker
    from .embed import prefer_passive_openmp

    prefer_passive_openmp()
    _worker = loader()


def _embed(texts: list[str], kind: Kind) -> tuple[np.ndarray, str]:
    assert _worker is not None, "worker used before its initialiser ran"
    return _worker.embed(texts, kind=kind), _worker.model_id


class EmbedPool:
    """Worker processes that embed chunks of texts; results come back in the order asked."""

    def __init__(self, loader: Loader, workers: int, model_id: str) -> None:
        self.model_id = model_id
        self.workers = max(1, workers)
        # spawn, not fork: the parent may hold a loaded runtime with live threads.
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, context, initializer=_init, initargs=(loader,))

    def map(self, chunks: Iterable[Sequence[str]], kind: Kind = "passage") -> Iterator[np.ndarray]:
        """Vectors per chunk, in order; at most two chunks per worker are in flight (bounded memory)."""
        pending: collections.deque[Future[tuple[np.ndarray, str]]] = collections.deque()
        for chunk in chunks:
            pending.append(self._pool.submit(_embed, list(chunk), kind))
            if len(pending) >= 2 * self.workers:
                yield self._result(pending.popleft())
        while pending:
            yield self._result(pending.popleft())

    def _result(self, future: Future[tuple[np.ndarray, str]]) -> np.ndarray:
        vecs, model_id = future.result()
        if model_id != self.model_id:
            raise ModelError(
                f"embedding workers loaded {model_id!r}, but the index is built with {self.model_id!r}"
            )
        return vecs

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> EmbedPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def pool_size(setting: int, to_compute: int, cpus: int) -> int:
    """Workers for a build: the setting when given (1 = in-process), else one per CPU for a
    build big enough to repay the start-up, else none."""
    if setting > 0:
        return setting if setting > 1 else 0
    return cpus if cpus > 1 and to_compute >= MIN_TEXTS else 0


PoolFor = Callable[[int], "EmbedPool | None"]


@contextlib.contextmanager
def lazy_pool(loader: Loader | None, setting: int, cpus: int, model_id: str) -> Iterator[PoolFor]:
    """``pool_for(n)``: the pool to embed ``n`` texts with (started on first need, then kept for
    the rest of the build), or None to embed in-process. Workers stop when the block ends."""
    started: list[EmbedPool] = []

    def pool_for(to_compute: int) -> EmbedPool | None:
        if started:
            return started[0]
        if loader is None:
            return None
        workers = pool_size(setting, to_compute, cpus)
        if not workers:
            return None
        started.append(EmbedPool(loader, workers, model_id))
        return started[0]

    try:
        yield pool_for
    finally:
        for pool in started:
            pool.close()
