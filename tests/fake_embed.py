"""A deterministic stand-in for the embedding model: hashed character bigrams, unit length.

Texts that share characters get similar vectors, which is enough to test the plumbing of the
dense channels (caching, FAISS, sentence → passage scores) in milliseconds without a model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from indexer.tokenize import normalise


class FakeEmbedder:
    model_id = "fake-bigram-64"
    dim = 64

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def _vector(self, text: str) -> np.ndarray:
        t = normalise(text)
        v = np.zeros(self.dim, dtype=np.float32)
        for gram in [t[i : i + 2] for i in range(max(1, len(t) - 1))]:
            h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0
        return v / max(float(np.linalg.norm(v)), 1e-12)

    def embed(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        self.calls.append((kind, tuple(texts)))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])
