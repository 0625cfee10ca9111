"""Embedding in worker processes: same vectors as in-process, in order, written to the cache
chunk by chunk; a worker with another model stops the build; small builds stay in-process."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from indexer import store
from indexer.cache import EmbeddingCache, embed_with_cache
from indexer.embed_pool import EmbedPool, lazy_pool, pool_size, settings_loader
from indexer.errors import ModelError
from indexer.settings import Settings
from tests.fake_embed import FakeEmbedder
from tests.lifecycle_util import FakeEmbedder as HashEmbedder
from tests.lifecycle_util import small_corpus

TEXTS = [f"第{i}条 排污单位应当按照规定{'监测' * (i % 7)}并公开信息{i}" for i in range(40)]


class _Renamed(FakeEmbedder):
    model_id = "another-model"


def test_pool_size_rule() -> None:
    assert pool_size(0, 5000, cpus=2) == 2
    assert pool_size(0, 999, cpus=2) == 0  # not worth two model loads
    assert pool_size(0, 5000, cpus=1) == 0
    assert pool_size(1, 5000, cpus=4) == 0  # 1 = in the building process
    assert pool_size(3, 10, cpus=2) == 3  # an explicit count is obeyed


def test_workers_return_the_in_process_vectors_in_order() -> None:
    chunks = [TEXTS[i : i + 7] for i in range(0, len(TEXTS), 7)]
    with EmbedPool(FakeEmbedder, 2, FakeEmbedder.model_id) as pool:
        got = list(pool.map(chunks))
    want = [FakeEmbedder().embed(c) for c in chunks]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_a_worker_with_another_model_stops_the_build() -> None:
    with (
        EmbedPool(_Renamed, 1, FakeEmbedder.model_id) as pool,
        pytest.raises(ModelError, match="another-model"),
    ):
        list(pool.map([TEXTS[:3]]))


def test_cache_filled_through_workers_equals_in_process(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    with EmbeddingCache(tmp_path / "a.sqlite3") as cache:
        local, n_local = embed_with_cache(emb, TEXTS, cache, chunk=5)
    with (
        EmbeddingCache(tmp_path / "b.sqlite3") as cache,
        lazy_pool(FakeEmbedder, 2, 2, emb.model_id) as pool_for,
    ):
        pooled, n_pooled = embed_with_cache(emb, TEXTS, cache, chunk=5, pool_for=pool_for)
        assert len(cache) == len(TEXTS)
    np.testing.assert_array_equal(local, pooled)
    assert n_local == n_pooled == len(TEXTS)


def test_missing_texts_are_embedded_longest_first_in_chunks(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    with EmbeddingCache(tmp_path / "c.sqlite3") as cache:
        embed_with_cache(emb, TEXTS, cache, chunk=8)
    lengths = [len(t) for _, call in emb.calls for t in call]
    assert lengths == sorted(lengths, reverse=True)
    assert max(len(call) for _, call in emb.calls) == 8


def test_small_builds_start_no_workers(tmp_path: Path) -> None:
    with lazy_pool(FakeEmbedder, 0, 2, FakeEmbedder.model_id) as pool_for:
        assert pool_for(10) is None
        first = pool_for(5000)
        assert first is not None and pool_for(3) is first  # kept for the rest of the build


def test_a_build_with_workers_matches_one_without(tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "corpus")
    one = Settings(corpus_dir=corpus, embed_chunk=4, data_dir=tmp_path / "d1", embed_workers=1)
    two = Settings(corpus_dir=corpus, embed_chunk=4, data_dir=tmp_path / "d2", embed_workers=2)
    m1 = store.build_index(one, HashEmbedder(), pool_loader=HashEmbedder)
    parent = HashEmbedder()
    m2 = store.build_index(two, parent, pool_loader=HashEmbedder)
    assert parent.calls == 0  # every vector came from the workers
    a = store.load_index(one, HashEmbedder.model_id)
    b = store.load_index(two, HashEmbedder.model_id)
    assert m1["passages"] == m2["passages"] and m1["sentences"] == m2["sentences"]
    q = HashEmbedder().embed(["排污许可"])[0]
    np.testing.assert_array_equal(a.dense.search(q, 5)[1], b.dense.search(q, 5)[1])


@pytest.mark.slow
def test_workers_with_the_real_model_compute_the_parent_vectors(tmp_path: Path) -> None:
    from indexer.embed import load_embedder
    from indexer.settings import get_settings

    settings = get_settings()
    parent = load_embedder(settings)
    chunks = [TEXTS[:20], TEXTS[20:]]
    with EmbedPool(settings_loader(settings), 2, parent.model_id) as pool:
        got = np.concatenate(list(pool.map(chunks)))
    want = parent.embed(TEXTS)
    cos = np.sum(got * want, axis=1)
    assert cos.min() >= 0.9999


def test_settings_loader_is_picklable() -> None:
    import pickle

    loader = settings_loader(Settings())
    assert isinstance(pickle.loads(pickle.dumps(loader)), functools.partial)


def test_partly_cached_texts_with_repeats_get_every_row_right(tmp_path: Path) -> None:
    """Cached rows, freshly embedded rows and repeated texts all land in their own rows."""
    emb = FakeEmbedder()
    texts = [TEXTS[3], TEXTS[0], TEXTS[3], TEXTS[5], TEXTS[0], TEXTS[9]]
    with EmbeddingCache(tmp_path / "d.sqlite3") as cache:
        embed_with_cache(emb, [TEXTS[0], TEXTS[9]], cache)
        got, computed = embed_with_cache(emb, texts, cache, chunk=1)
    assert computed == 2  # TEXTS[3] and TEXTS[5], each once
    np.testing.assert_array_equal(got, FakeEmbedder().embed(texts))
    with EmbeddingCache(tmp_path / "e.sqlite3") as cache:
        empty, none = embed_with_cache(emb, [], cache)
    assert empty.shape == (0, emb.dim) and none == 0
