"""The retrieval channels beside word BM25 and passage vectors: character n-gram BM25 and
sentence vectors. Built into the same index directory and loaded with it."""

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


def build_channels(
    directory: Path,
    passage_texts: Sequence[str],
    index_texts: Sequence[str],
    embed: EmbedFn,
    documents: Sequence[str] = (),
) -> dict[str, object]:
    """Writes the channels into ``directory``; returns figures for the index manifest.
    ``documents`` (whole cleaned texts) are where abbreviations are learnt."""
    pairs = abbrev.derive(documents)
    (directory / ABBREV_FILE).write_text(json.dumps(pairs, ensure_ascii=False, indent=0), encoding="utf-8")
    SparseIndex.build(list(index_texts), char_tokens).save(directory / CHAR_DIR)
    units = sentence_units(passage_texts, index_texts)
    t0 = time.perf_counter()
    vectors, computed = embed(units.texts)
    seconds = time.perf_counter() - t0
    SentenceIndex.build(vectors, units.owner, len(index_texts)).save(directory / SENTENCE_DIR)
    return {
        "sentences": len(units.texts),
        "sentence_embeddings_computed": computed,
        "sentence_embed_seconds": round(seconds, 2),
        "abbreviations": len(pairs),
    }


def load_channels(directory: Path, n_passages: int) -> Channels:
    char = SparseIndex.load(directory / CHAR_DIR, char_tokens)
    raw = json.loads((directory / ABBREV_FILE).read_text(encoding="utf-8"))
    pairs = tuple((str(s), str(f)) for s, f in raw)
    return Channels(char, SentenceIndex.load(directory / SENTENCE_DIR, n_passages), pairs)
