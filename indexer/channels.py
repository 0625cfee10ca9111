"""The retrieval channels beside word BM25 and passage vectors: character n-gram BM25, sentence
vectors and corpus abbreviations. Built into the same index directory and loaded with it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import abbrev
from .chargram import char_tokens
from .sentences import SentenceIndex, sentence_units
from .sparse import SparseIndex

CHAR_DIR = "bm25_char"
SENTENCE_DIR = "sentences"
ABBREV_FILE = "abbreviations.json"
# Texts in, (vectors, how many had to be computed) out: the store's cached embedding.
EmbedFn = Callable[[Sequence[str]], tuple[np.ndarray, int]]


@dataclass(frozen=True)
class Channels:
    char: SparseIndex
    sentences: SentenceIndex
    abbreviations: abbrev.Pairs = ()
    figures: tuple[tuple[str, object], ...] = ()  # for the index manifest, set when built

    def save(self, directory: Path) -> None:
        self.char.save(directory / CHAR_DIR)
        self.sentences.save(directory / SENTENCE_DIR)
        text = json.dumps(self.abbreviations, ensure_ascii=False, indent=0)
        (directory / ABBREV_FILE).write_text(text, encoding="utf-8")


def build_channels(
    passage_texts: Sequence[str],
    index_texts: Sequence[str],
    documents: Sequence[str],
    embed: EmbedFn,
    with_sentences: Sequence[bool] | None = None,
) -> Channels:
    """All channels in memory (sentence vectors through ``embed``); ``documents`` are the whole
    cleaned texts, where abbreviations are learnt. ``with_sentences`` marks the passages that
    get sentence vectors (default: all)."""
    char = SparseIndex.build(list(index_texts), char_tokens)
    units = sentence_units(passage_texts, index_texts, with_sentences)
    t0 = time.perf_counter()
    vectors, computed = embed(units.texts)
    seconds = time.perf_counter() - t0
    pairs = abbrev.derive(documents)
    figures = (
        ("sentences", len(units.texts)),
        ("sentence_embeddings_computed", computed),
        ("sentence_embed_seconds", round(seconds, 2)),
        ("abbreviations", len(pairs)),
    )
    return Channels(char, SentenceIndex.build(vectors, units.owner, len(index_texts)), pairs, figures)


def load_channels(directory: Path, n_passages: int) -> Channels:
    char = SparseIndex.load(directory / CHAR_DIR, char_tokens)
    raw = json.loads((directory / ABBREV_FILE).read_text(encoding="utf-8"))
    pairs = tuple((str(s), str(f)) for s, f in raw)
    return Channels(char, SentenceIndex.load(directory / SENTENCE_DIR, n_passages), pairs)
