"""Dense retrieval: inner product over L2-normalised embeddings in a FAISS flat index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _single_threaded() -> None:
    """One query vector gains nothing from OpenMP threads: over 160k vectors a flat search took
    12 ms on one thread and 45-58 ms on two (2 cores), and serving runs searches side by side."""
    import faiss

    faiss.omp_set_num_threads(1)


def single_threaded_blas() -> None:
    """numpy's OpenBLAS on one thread, for a serving process.

    Each question multiplies its vector with the sentence vectors (a matrix-vector product of
    ~1 ms). OpenBLAS splits it over every core, and its idle threads then spin waiting for more
    work, on the cores the other requests need. With one worker at 8 concurrent clients the
    server took 196 % CPU for 50.5 answers/s with the default and 155 % for 65.3/s on one thread
    (2 cores, bench/results/latest.md)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class DenseIndex:
    def __init__(self, index: Any) -> None:
        self._index = index
        _single_threaded()

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        import faiss

        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        faiss.normalize_L2(vecs)
        index = faiss.IndexFlatIP(vecs.shape[1])
        index.add(vecs)
        return cls(index)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        import faiss

        return cls(faiss.read_index(str(path)))

    def vectors(self) -> np.ndarray:
        """The stored vectors as a read-only view into the flat index (no copy)."""
        import faiss

        n, d = self.size, self.dim
        if n == 0:
            return np.zeros((0, d), dtype=np.float32)
        view = faiss.rev_swig_ptr(self._index.get_xb(), n * d).reshape(n, d)
        view.flags.writeable = False
        return view

    def similarities(self, query_vec: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
        """Inner products with every stored vector (or those at ``positions``), in stored order:
        one pass over memory, where a search for all of them would also sort them."""
        q = np.asarray(query_vec, dtype=np.float32).reshape(-1)
        vecs = self.vectors()
        return (vecs if positions is None else vecs[positions]) @ q

    def search_within(
        self, query_vec: np.ndarray, k: int, positions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k nearest among ``positions`` only (a document filter)."""
        positions = np.asarray(positions, dtype=np.int64)
        if not len(positions) or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        sims = self.similarities(query_vec, positions)
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return sims[top], positions[top]

    def search(self, query_vec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k nearest passages; ids are positions in the passage list."""
        q = np.ascontiguousarray(query_vec.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, self.size))
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]
