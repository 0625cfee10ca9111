"""Index generations, integrity checks, the build lock and the incremental embedding cache.

A fake embedder keeps these fast; real FAISS and bm25s write and read every artefact.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from indexer import generations, store
from indexer.cache import EmbeddingCache, cache_key, cache_path
from indexer.errors import IndexError_
from indexer.settings import Settings
from tests.lifecycle_util import FakeEmbedder, fingerprint, small_corpus


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(corpus_dir=small_corpus(tmp_path / "corpus"), data_dir=tmp_path / "data", embed_chunk=8)


def test_each_build_is_a_new_generation_and_the_live_one_is_never_touched(settings: Settings) -> None:
    root = settings.resolved_index_dir
    emb = FakeEmbedder()
    first = store.build_index(settings, emb)
    g1 = str(first["generation"])
    assert generations.read_pointer(root) == g1
    before = fingerprint(generations.generation_dir(root, g1))
    assert {"dense.faiss", "passage_ids.json", "manifest.json"} <= set(before)
    assert any(name.startswith("bm25/") for name in first["files"])  # type: ignore[union-attr]

    second = store.build_index(settings, emb)
    g2 = str(second["generation"])
    assert g2 != g1 and generations.read_pointer(root) == g2
    assert second["embeddings_computed"] == 0
    assert fingerprint(generations.generation_dir(root, g1)) == before
    assert generations.list_generations(root) == sorted([g1, g2])

    # The third build collects the first; the previous one stays for processes still on it.
    g3 = str(store.build_index(settings, emb)["generation"])
    assert generations.list_generations(root) == sorted([g2, g3])
    loaded = store.load_index(settings, emb.model_id)
    assert loaded.manifest["generation"] == g3 and loaded.dense.size == first["passages"]


def test_damaged_files_are_reported_by_name_never_served(settings: Settings) -> None:
    emb = FakeEmbedder()
    store.build_index(settings, emb)
    live = generations.live_dir(settings.resolved_index_dir)
    dense = live / "dense.faiss"
    original = dense.read_bytes()

    with dense.open("r+b") as fh:
        fh.truncate(len(original) // 2)
    with pytest.raises(IndexError_, match=r"dense\.faiss is damaged \(\d+ bytes") as exc:
        store.load_index(settings, emb.model_id)
    assert str(dense) in str(exc.value) and "planqa index" in str(exc.value)

    flipped = bytearray(original)
    flipped[-1] ^= 0xFF
    dense.write_bytes(bytes(flipped))
    with pytest.raises(IndexError_, match="checksum differs"):
        store.load_index(settings, emb.model_id)

    dense.write_bytes(original)
    (live / "stray.bin").write_bytes(b"x")
    with pytest.raises(IndexError_, match="does not record"):
        store.load_index(settings, emb.model_id)
    (live / "stray.bin").unlink()

    (live / "passage_ids.json").unlink()
    with pytest.raises(IndexError_, match=r"passage_ids\.json is missing"):
        store.load_index(settings, emb.model_id)


def test_missing_index_and_dangling_pointer_name_the_fix(settings: Settings) -> None:
    root = settings.resolved_index_dir
    with pytest.raises(IndexError_, match=r"CURRENT does not exist.*planqa index"):
        store.load_index(settings, "fake-hash-embedder")
    root.mkdir(parents=True)
    generations.write_pointer(root, "20990101T000000-abcdef")
    with pytest.raises(IndexError_, match=r"is missing.*planqa serve --build"):
        store.load_index(settings, "fake-hash-embedder")


def test_extra_artefacts_are_checksummed_without_further_changes(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def write_extra(directory: Path, data: store.BuildInput) -> dict[str, object]:
        vectors, _ = data.embed(data.texts[:3])
        np.save(directory / "sentences" / "vectors.npy", vectors)
        return {"extra_rows": len(vectors)}

    monkeypatch.setattr(store, "ARTEFACTS", [*store.ARTEFACTS, write_extra])
    manifest = store.build_index(settings, FakeEmbedder())
    assert "sentences/vectors.npy" in manifest["files"]  # type: ignore[operator]
    assert manifest["extra_rows"] == 3  # a writer's figures reach the manifest
    live = generations.live_dir(settings.resolved_index_dir)
    (live / "sentences" / "vectors.npy").write_bytes(b"short")
    with pytest.raises(IndexError_, match=r"vectors\.npy is damaged"):
        store.load_index(settings, FakeEmbedder.model_id)


def test_failed_build_leaves_live_generation_and_pointer(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settings.resolved_index_dir
    g1 = store.build_index(settings, FakeEmbedder())["generation"]
    before = fingerprint(root / generations.GENERATIONS)

    def explode(directory: Path, data: store.BuildInput) -> dict[str, object]:
        (directory / "half-written").write_bytes(b"...")
        raise RuntimeError("writer failed")

    monkeypatch.setattr(store, "ARTEFACTS", [*store.ARTEFACTS, explode])
    with pytest.raises(RuntimeError, match="writer failed"):
        store.build_index(settings, FakeEmbedder())
    assert generations.read_pointer(root) == g1
    assert fingerprint(root / generations.GENERATIONS) == before
    assert not [p for p in (root / generations.GENERATIONS).iterdir() if p.name.startswith(".")]


def test_abandoned_staging_dirs_are_removed_by_the_next_build(settings: Settings) -> None:
    root = settings.resolved_index_dir
    store.build_index(settings, FakeEmbedder())
    killed = root / generations.GENERATIONS / f"{generations.STAGING_PREFIX}20260101T000000-000000"
    killed.mkdir()
    (killed / "dense.faiss").write_bytes(b"partial")
    store.build_index(settings, FakeEmbedder())
    assert not killed.exists()


def test_cleanup_waits_while_a_generation_is_being_read(settings: Settings) -> None:
    root = settings.resolved_index_dir
    for _ in range(2):
        store.build_index(settings, FakeEmbedder())
    with generations.reading(root):
        store.build_index(settings, FakeEmbedder())
        assert len(generations.list_generations(root)) == 3
    store.build_index(settings, FakeEmbedder())
    assert len(generations.list_generations(root)) == 2


def test_build_lock_serialises_builds(settings: Settings) -> None:
    root = settings.resolved_index_dir
    waited: list[int] = []
    release = threading.Event()
    held = threading.Event()

    def holder() -> None:
        with generations.build_lock(root):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    assert generations.build_in_progress(root) == os.getpid()
    result: dict[str, object] = {}
    builder = threading.Thread(
        target=lambda: result.update(store.build_index(settings, FakeEmbedder(), on_wait=waited.append))
    )
    builder.start()
    time.sleep(0.3)
    assert builder.is_alive() and "generation" not in result  # blocked behind the holder
    release.set()
    builder.join(30)
    t.join(10)
    assert waited == [os.getpid()] and result["generation"]
    assert generations.build_in_progress(root) is None


def test_only_if_stale_reuses_a_fresh_intact_index(settings: Settings) -> None:
    emb = FakeEmbedder()
    g1 = store.build_index(settings, emb)["generation"]
    again = store.build_index(settings, emb, only_if_stale=True)
    assert again["reused"] is True and again["generation"] == g1
    live = generations.live_dir(settings.resolved_index_dir)
    (live / "dense.faiss").write_bytes(b"damaged")
    rebuilt = store.build_index(settings, emb, only_if_stale=True)
    assert "reused" not in rebuilt and rebuilt["generation"] != g1


def test_embeddings_are_kept_batch_by_batch_when_a_build_dies(settings: Settings) -> None:
    crashing = FakeEmbedder(fail_after=3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.build_index(settings, crashing)
    assert generations.read_pointer(settings.resolved_index_dir) is None
    with EmbeddingCache(cache_path(settings.data_dir, FakeEmbedder.model_id)) as cache:
        assert len(cache) == 3 * settings.embed_chunk
    rerun = FakeEmbedder()
    manifest = store.build_index(settings, rerun)
    total = int(manifest["passages"])  # type: ignore[call-overload]
    computed = int(manifest["embeddings_computed"])  # type: ignore[call-overload]
    # Passages kept from the dead build are not embedded again; sentence vectors come on top.
    assert computed <= total - 3 * settings.embed_chunk
    assert rerun.embedded >= computed


def test_cache_takes_over_the_old_single_file_cache(tmp_path: Path) -> None:
    keys = np.array([cache_key("m", "甲"), cache_key("m", "乙")])
    vecs = np.eye(2, 4, dtype=np.float32)
    np.savez(tmp_path / "embeddings-x.npz", keys=keys, vectors=vecs)
    with EmbeddingCache(tmp_path / "embeddings-x.sqlite3") as cache:
        got = cache.get(list(keys))
        assert len(cache) == 2 and np.array_equal(got[str(keys[1])], vecs[1])
