"""Sentence-level dense vectors beside the passage vectors.

A long passage's vector averages many topics; a question about one of them matches that one
sentence much better. Every passage is split into sentences, each sentence is embedded (through
the same embedding cache as passages) and a passage scores its best sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .dense import DenseIndex

# Sentence ends: full stop, exclamation, question mark, semicolon (Chinese and ASCII), line breaks.
_END = re.compile(r"(?<=[。！？；!?;\n])")
# A piece shorter than this (a list number, "第三条", "（一）总体要求。") says too little on its
# own to be embedded, so it joins its neighbour.
MIN_CHARS = 12


def split_sentences(text: str, min_chars: int = MIN_CHARS) -> list[str]:
    """Sentences of ``text`` in order; short pieces are merged into the following one (the
    last into the one before), so every returned sentence has at least ``min_chars``
    characters unless the whole text is shorter."""
    pieces = [p.strip() for p in _END.split(text)]
    pieces = [p for p in pieces if p]
    out: list[str] = []
    carry = ""
    for piece in pieces:
        joined = f"{carry}{piece}"
        if len(joined) < min_chars:
            carry = joined
            continue
        out.append(joined)
        carry = ""
    if carry:
        if out:
            out[-1] = f"{out[-1]}{carry}"
        else:
            out.append(carry)
    return out


@dataclass(frozen=True)
class SentenceUnits:
    """Texts to embed, and for each the position of the passage it belongs to."""

    texts: tuple[str, ...]
    owner: np.ndarray  # int32 passage position per text


def sentence_units(
    passage_texts: Sequence[str], index_texts: Sequence[str], keep: Sequence[bool] | None = None
) -> SentenceUnits:
    """Sentences of every passage (of those ``keep`` marks, when given). A passage that is one
    sentence keeps its passage index text (headings included), which the embedding cache
    already holds: no extra embedding."""
    texts: list[str] = []
    owner: list[int] = []
    wanted = [True] * len(passage_texts) if keep is None else list(keep)
    if len(wanted) != len(passage_texts):
        raise ValueError(f"{len(wanted)} sentence flags for {len(passage_texts)} passages")
    for pos, (text, indexed) in enumerate(zip(passage_texts, index_texts, strict=True)):
        if not wanted[pos]:
            continue
        sents = split_sentences(text)
        if len(sents) <= 1:
            sents = [indexed]
        texts.extend(sents)
        owner.extend([pos] * len(sents))
    return SentenceUnits(tuple(texts), np.asarray(owner, dtype=np.int32))


class SentenceIndex:
    def __init__(self, dense: DenseIndex, owner: np.ndarray, n_passages: int) -> None:
        if dense.size != len(owner):
            raise ValueError(f"{dense.size} sentence vectors for {len(owner)} sentences")
        self.dense = dense
        self.owner = owner
        self.n_passages = n_passages

    @property
    def size(self) -> int:
        return self.dense.size

    @classmethod
    def build(cls, vectors: np.ndarray, owner: np.ndarray, n_passages: int) -> SentenceIndex:
        return cls(DenseIndex.build(vectors), owner, n_passages)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.dense.save(directory / "sentences.faiss")
        np.save(directory / "owner.npy", self.owner)

    @classmethod
    def load(cls, directory: Path, n_passages: int) -> SentenceIndex:
        owner = np.load(directory / "owner.npy")
        if len(owner) and (int(owner.max()) >= n_passages or int(owner.min()) < 0):
            raise ValueError("sentence owners point outside the passage list")
        return cls(DenseIndex.load(directory / "sentences.faiss"), owner, n_passages)

    def passage_scores(self, query_vec: np.ndarray) -> np.ndarray:
        """Each passage's best sentence similarity (-1 for a passage without sentences)."""
        best = np.full(self.n_passages, -1.0, dtype=np.float32)
        if self.size:
            np.maximum.at(best, self.owner, self.dense.similarities(query_vec))
        return best
