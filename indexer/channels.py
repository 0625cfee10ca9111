"""The retrieval channels beside word BM25 and passage vectors: character n-gram BM25, sentence
vectors and corpus abbreviations. Written into the same index directory and loaded with it."""

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


@dataclass(frozen=True)
class ChannelSource:
    """What the channel writers read: passage texts, their index texts (headings included),
    the whole cleaned documents (where abbreviations are learnt), which passages get sentence
    vectors (None: all) and the store's cached embedding."""

    passage_texts: Sequence[str]
    index_texts: Sequence[str]
    documents: Sequence[str]
    embed: EmbedFn
    with_sentences: Sequence[bool] | None = None


Figures = dict[str, object]


def write_char(directory: Path, src: ChannelSource) -> Figures:
    SparseIndex.build(src.index_texts, char_tokens).save(directory / CHAR_DIR)
    return {}


def write_sentences(directory: Path, src: ChannelSource) -> Figures:
    units = sentence_units(src.passage_texts, src.index_texts, src.with_sentences)
    t0 = time.perf_counter()
    vectors, computed = src.embed(units.texts)
    seconds = time.perf_counter() - t0
    SentenceIndex.build(vectors, units.owner, len(src.index_texts)).save(directory / SENTENCE_DIR)
    return {
        "sentences": len(units.texts),
        "sentence_embeddings_computed": computed,
        "sentence_embed_seconds": round(seconds, 2),
    }


def write_abbreviations(directory: Path, src: ChannelSource) -> Figures:
    pairs = abbrev.derive(src.documents)
    text = json.dumps(pairs, ensure_ascii=False, indent=0)
    (directory / ABBREV_FILE).write_text(text, encoding="utf-8")
    return {"abbreviations": len(pairs)}


# One writer per channel, run one after another: each builds its artefact, saves it and lets it
# go before the next starts, so a build's peak memory is that of its largest channel, not their
# sum (with the whole law library: 1.7 GB summed, see bench/results/latest.md).
CHANNEL_WRITERS: tuple[Callable[[Path, ChannelSource], Figures], ...] = (
    write_char,
    write_sentences,
    write_abbreviations,
)


def load_channels(directory: Path, n_passages: int) -> Channels:
    char = SparseIndex.load(directory / CHAR_DIR, char_tokens)
    raw = json.loads((directory / ABBREV_FILE).read_text(encoding="utf-8"))
    pairs = tuple((str(s), str(f)) for s, f in raw)
    return Channels(char, SentenceIndex.load(directory / SENTENCE_DIR, n_passages), pairs)
