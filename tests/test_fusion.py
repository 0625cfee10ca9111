"""Fusion configuration and weighted reciprocal rank."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.fusion import CHANNELS, fuse, load_fusion, parse_fusion, rrf


def test_the_shipped_configuration_names_only_known_channels() -> None:
    f = load_fusion()
    assert f.k > 0 and [c for c, _ in f.weights] == list(CHANNELS)
    assert f.weight("bm25") > 0 and f.weight("dense") > 0


def test_rrf_weights_and_k() -> None:
    fused = rrf([np.array([2, 0]), np.array([0])], 3, [1.0, 0.5], k=10)
    assert fused[2] == pytest.approx(1 / 11)
    assert fused[0] == pytest.approx(1 / 12 + 0.5 / 11)
    assert fused[1] == 0.0


def test_fuse_skips_channels_without_weight_or_ranking() -> None:
    f = parse_fusion({"k": 1, "weights": {"bm25": 1.0, "char": 0.0, "dense": 2.0}})
    fused = fuse({"bm25": np.array([0]), "char": np.array([1])}, 2, f)
    assert fused.tolist() == [0.5, 0.0]


def test_with_weights_changes_a_copy() -> None:
    f = parse_fusion({"k": 20, "weights": {"bm25": 1.0}})
    g = f.with_weights(k=5, char=0.5)
    assert (g.k, g.weight("char"), g.weight("bm25")) == (5, 0.5, 1.0)
    assert f.weight("char") == 0.0
    with pytest.raises(ValueError):
        f.with_weights(nope=1.0)


def test_tier_factors_default_to_one_and_change_in_a_copy() -> None:
    f = parse_fusion({"k": 20, "weights": {"bm25": 1.0}, "tiers": {"reference": 0.5}})
    assert (f.tier_factor("reference"), f.tier_factor("core")) == (0.5, 1.0)
    g = f.with_tiers(reference=0.25).with_weights(char=1.0)
    assert (g.tier_factor("reference"), f.tier_factor("reference"), g.weight("char")) == (0.25, 0.5, 1.0)
    shipped = load_fusion()
    assert 0 < shipped.tier_factor("reference") < 1 and shipped.tier_factor("core") == 1.0


@pytest.mark.parametrize(
    "raw",
    [
        {"weights": {}},
        {"k": 0},
        {"k": True},
        {"k": 20, "weights": {"bm26": 1}},
        {"k": 20, "weights": {"bm25": -1}},
        {"k": 20, "tiers": {"archive": 0.5}},
        {"k": 20, "tiers": {"reference": 0}},
        {"k": 20, "tiers": {"reference": 1.5}},
    ],
)
def test_bad_configurations_are_refused(raw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        parse_fusion(raw)
