"""Weighted reciprocal-rank fusion of the hybrid channels, configured by indexer/data/fusion.toml."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

CHANNELS: tuple[str, ...] = (
    "bm25",
    "dense",
    "expanded",
    "char",
    "sentence",
    "dense_ask",
    "sentence_ask",
    "abbrev",
)


@dataclass(frozen=True)
class Fusion:
    k: float
    weights: tuple[tuple[str, float], ...]  # (channel, weight) in CHANNELS order
    # Fused score factor per document tier; a tier not listed keeps its score (factor 1).
    tiers: tuple[tuple[str, float], ...] = ()

    def tier_factor(self, tier: str) -> float:
        return dict(self.tiers).get(tier, 1.0)

    def weight(self, channel: str) -> float:
        return dict(self.weights).get(channel, 0.0)

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(c for c, w in self.weights if w > 0)

    def with_weights(self, k: float | None = None, **weights: float) -> Fusion:
        """A copy with some weights (or k) changed; for ablations and the tuning script."""
        unknown = set(weights) - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown fusion channels: {', '.join(sorted(unknown))}")
        merged = {**dict(self.weights), **weights}
        channels = tuple((c, float(merged.get(c, 0.0))) for c in CHANNELS)
        return Fusion(self.k if k is None else k, channels, self.tiers)

    def with_tiers(self, **factors: float) -> Fusion:
        """A copy with some tier factors changed."""
        return Fusion(self.k, self.weights, tuple({**dict(self.tiers), **factors}.items()))


def parse_fusion(raw: Mapping[str, Any]) -> Fusion:
    k = raw.get("k")
    if not isinstance(k, int | float) or isinstance(k, bool) or k <= 0:
        raise ValueError("fusion.toml: k must be a positive number")
    weights = raw.get("weights", {})
    unknown = set(weights) - set(CHANNELS)
    if unknown:
        raise ValueError(f"fusion.toml: unknown channels {', '.join(sorted(unknown))}; known: {CHANNELS}")
    for name, w in weights.items():
        if not isinstance(w, int | float) or isinstance(w, bool) or w < 0:
            raise ValueError(f"fusion.toml: weight of {name!r} must be a number >= 0")
    from .metadata import TIERS

    tiers = raw.get("tiers", {})
    unknown = set(tiers) - set(TIERS)
    if unknown:
        raise ValueError(f"fusion.toml: unknown tiers {', '.join(sorted(unknown))}; known: {TIERS}")
    for name, f in tiers.items():
        if not isinstance(f, int | float) or isinstance(f, bool) or not 0 < f <= 1:
            raise ValueError(f"fusion.toml: factor of tier {name!r} must be a number in (0, 1]")
    channels = tuple((c, float(weights.get(c, 0.0))) for c in CHANNELS)
    return Fusion(float(k), channels, tuple((t, float(tiers[t])) for t in TIERS if t in tiers))


@lru_cache(maxsize=1)
def load_fusion() -> Fusion:
    text = resources.files("indexer").joinpath("data", "fusion.toml").read_text(encoding="utf-8")
    return parse_fusion(tomllib.loads(text))


def rrf(
    rankings: Sequence[np.ndarray], n: int, weights: Sequence[float] | None = None, k: float = 20
) -> np.ndarray:
    """Reciprocal-rank fusion of ranked position lists into one score per passage."""
    fused = np.zeros(n, dtype=np.float64)
    for r, ranking in enumerate(rankings):
        w = weights[r] if weights else 1.0
        fused[ranking] += w / (k + np.arange(1, len(ranking) + 1))
    return fused


def fuse(rankings: Mapping[str, np.ndarray], n: int, fusion: Fusion) -> np.ndarray:
    """Fused scores of the channels that have a ranking and a weight."""
    names = [c for c in fusion.active if c in rankings]
    return rrf([rankings[c] for c in names], n, [fusion.weight(c) for c in names], fusion.k)
