"""jieba segmentation with the domain dictionary; the shared tokeniser for BM25."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

_LOCK = threading.Lock()
_WORD = re.compile(r"[\w.]+")


def _data(name: str) -> str:
    return resources.files("indexer").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(w.strip() for w in _data("stopwords.txt").splitlines() if w.strip())


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(60)
    # A private Tokenizer keeps planqa's dictionary out of anyone else's global jieba.
    tok = jieba.Tokenizer()
    for line in _data("userdict.txt").splitlines():
        parts = line.split()
        if parts:
            freq = int(parts[1]) if len(parts) > 1 else None
            tag = parts[2] if len(parts) > 2 else None
            # Text is normalised before segmentation, so the dictionary must be too.
            tok.add_word(normalise(parts[0]), freq, tag)
    return tok


# Answering normalises the same vocabulary names and passage sentences for every question (about
# 3,500 calls per question); remembering them took analysis and composing ~10 % faster.
@lru_cache(maxsize=1 << 16)
def normalise(text: str) -> str:
    """NFKC folds full-width Latin and digits (ＰＭ２．５ → PM2.5); Latin is lower-cased."""
    return unicodedata.normalize("NFKC", text).lower()


def segment(text: str) -> list[str]:
    """Plain jieba segmentation (no stopword removal), for display and for rules."""
    with _LOCK:
        return [w for w in _tokenizer().lcut(normalise(text)) if w.strip()]


def tokens(text: str) -> list[str]:
    """Index/search tokens: search-mode segmentation (long words also yield their parts)."""
    stop = stopwords()
    with _LOCK:
        words = _tokenizer().lcut_for_search(normalise(text))
    return [w for w in words if w.strip() and w not in stop and _WORD.search(w)]
