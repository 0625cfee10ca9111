"""BM25 through bm25s, over jieba tokens or (for the character channel) character n-grams."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .tokenize import tokens

Tokenizer = Callable[[str], list[str]]


class SparseIndex:
    def __init__(self, model: Any, tokenize: Tokenizer = tokens) -> None:
        self._model = model
        self._tokenize = tokenize

    @classmethod
    def build(cls, texts: list[str], tokenize: Tokenizer = tokens) -> SparseIndex:
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index([tokenize(t) or ["∅"] for t in texts], show_progress=False)
        return cls(model, tokenize)

    def save(self, directory: Path) -> None:
        self._model.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, tokenize: Tokenizer = tokens) -> SparseIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), show_progress=False), tokenize)

    def scores(self, query: str) -> np.ndarray:
        """A BM25 score for every passage (the corpus is small enough to score in full)."""
        vocab = self._model.vocab_dict
        known = [t for t in self._tokenize(query) if t in vocab]
        n = int(self._model.scores["num_docs"])
        if not known:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)
