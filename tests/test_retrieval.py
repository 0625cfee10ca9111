"""Real index, real model, real FAISS: each retrieval mode, the index on disk, LangChain adapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.errors import IndexError_, InvalidRequest
from indexer.settings import Settings

pytestmark = pytest.mark.slow

# Questions worded close to the text: every mode should find these.
LITERAL = [
    ("秸秆禁烧红外视频监控", "加大秸秆禁烧管控"),
    ("加油站、储油库、油罐车油气回收治理在线监控", "油气回收"),
    ("每个乡（镇）建立1个医疗废物周转站", "医疗废物周转站"),
    ("重点排污单位应当安装、使用大气污染物排放自动监测设备", "自动监测设备"),
]
# Worded differently from the text: the model has to bridge the gap.
SEMANTIC = [
    ("路上跑的老旧柴油大车怎么管", "柴油"),
    ("医院产生的废弃物怎么处理", "医疗废物"),
]


@pytest.fixture(scope="module")
def searcher(engine):  # type: ignore[no-untyped-def]
    return engine.searcher


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize(("query", "needle"), LITERAL)
def test_modes_find_literal_questions(searcher, mode: str, query: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    hits = searcher.search(query, k=5, mode=mode)
    assert any(needle in h.passage.text for h in hits), [h.passage.text[:40] for h in hits]


@pytest.mark.parametrize(("query", "needle"), SEMANTIC)
def test_dense_and_hybrid_bridge_wording(searcher, query: str, needle: str) -> None:  # type: ignore[no-untyped-def]
    for mode in ("dense", "hybrid"):
        hits = searcher.search(query, k=5, mode=mode)
        assert any(needle in h.passage.text for h in hits), (mode, [h.passage.text[:40] for h in hits])


def test_hits_carry_paths_scores_and_filters(searcher) -> None:  # type: ignore[no-untyped-def]
    hits = searcher.search("重点排污单位 自动监测", k=3, doc_ids=["air-pollution-prevention-law"])
    assert hits and all(h.passage.doc_id == "air-pollution-prevention-law" for h in hits)
    assert hits[0].passage.section_path.startswith("第")
    assert hits[0].doc_title == "中华人民共和国大气污染防治法"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[-1].score


def test_unknown_doc_and_mode_are_named(searcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidRequest) as exc:
        searcher.search("水", doc_ids=["no-such-law"])
    assert "no-such-law" in str(exc.value) and "water-law" in exc.value.allowed
    with pytest.raises(InvalidRequest) as exc2:
        searcher.search("水", mode="fuzzy")
    assert exc2.value.allowed == ["hybrid", "bm25", "dense"]


def test_index_manifest(index_settings: Settings) -> None:
    from indexer.generations import live_dir

    manifest = json.loads((live_dir(index_settings.resolved_index_dir) / "manifest.json").read_text())
    assert manifest["passages"] > 2000 and manifest["documents"] == 27
    assert manifest["dimension"] == 384
    for key in ("corpus_fingerprint", "model_id", "planqa_version", "built_at", "generation", "files"):
        assert manifest[key]


def test_missing_index_fails_clearly(tmp_path: Path, index_settings: Settings) -> None:
    from indexer.embed import load_embedder
    from indexer.store import load_index

    empty = index_settings.model_copy(update={"index_dir": tmp_path / "nothing"})
    with pytest.raises(IndexError_, match="run `planqa index`"):
        load_index(empty, load_embedder(index_settings).model_id)


def test_corrupt_or_stale_index_fails_clearly(tmp_path: Path, index_settings: Settings) -> None:
    import shutil

    from indexer.embed import load_embedder
    from indexer.generations import live_dir
    from indexer.store import load_index

    model_id = load_embedder(index_settings).model_id
    copy = tmp_path / "index"
    shutil.copytree(index_settings.resolved_index_dir, copy)
    settings = index_settings.model_copy(update={"index_dir": copy})
    live = live_dir(copy)
    (live / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexError_, match=r"dense\.faiss is damaged"):
        load_index(settings, model_id)
    manifest = json.loads((live / "manifest.json").read_text())
    (live / "manifest.json").write_text(json.dumps({**manifest, "corpus_fingerprint": "x"}))
    with pytest.raises(IndexError_, match="another version of the corpus"):
        load_index(settings, model_id)
    (live / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexError_, match="built with model"):
        load_index(settings, "some-other-model")


def test_interrupted_build_leaves_old_index_intact(tmp_path: Path, index_settings: Settings) -> None:
    import shutil

    from indexer import store
    from indexer.embed import load_embedder
    from indexer.generations import GENERATIONS, read_pointer
    from tests.lifecycle_util import fingerprint

    copy = tmp_path / "index"
    shutil.copytree(index_settings.resolved_index_dir, copy)
    before, pointer = fingerprint(copy / GENERATIONS), read_pointer(copy)
    settings = index_settings.model_copy(update={"index_dir": copy})

    class Boom(Exception):
        pass

    def explode(*_a: object, **_k: object) -> None:
        raise Boom

    original = store.SparseIndex.build
    store.SparseIndex.build = explode  # type: ignore[method-assign,assignment]
    try:
        with pytest.raises(Boom):
            store.build_index(settings, load_embedder(index_settings))
    finally:
        store.SparseIndex.build = original  # type: ignore[method-assign]
    assert fingerprint(copy / GENERATIONS) == before and read_pointer(copy) == pointer
    assert not [p for p in (copy / GENERATIONS).iterdir() if p.name.startswith(".")], "staging cleaned up"


def test_rebuild_reuses_cached_embeddings(index_settings: Settings, tmp_path: Path) -> None:
    from indexer.embed import load_embedder
    from indexer.store import build_index

    settings = index_settings.model_copy(update={"index_dir": tmp_path / "again"})
    manifest = build_index(settings, load_embedder(index_settings))
    assert manifest["embeddings_computed"] == 0


def test_langchain_retriever(searcher) -> None:  # type: ignore[no-untyped-def]
    from langchain_core.retrievers import BaseRetriever

    from indexer.lc import PlanqaRetriever

    retriever = PlanqaRetriever(searcher=searcher, k=3)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("餐饮油烟净化")
    assert len(docs) == 3
    assert any("油烟" in d.page_content for d in docs)
    assert docs[0].metadata["section"] and docs[0].metadata["passage_id"]
