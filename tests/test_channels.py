"""The hybrid channels end to end on a tiny corpus: built into the index directory, loaded with
it, fused by the configured weights. Deterministic fake embedder, real bm25s and FAISS."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.corpus import Corpus, parse_sources
from indexer.errors import IndexError_
from indexer.fusion import CHANNELS, load_fusion
from indexer.generations import live_dir
from indexer.records import DocumentMeta
from indexer.search import Searcher
from indexer.settings import Settings
from indexer.store import build_index, load_index
from tests.fake_embed import FakeEmbedder

LAW = """# 测试污染防治条例

## 第一章 总则

第一条 为了防治秸秆露天焚烧造成的大气污染，保护和改善环境，制定本条例。

第二条 禁止在人口集中地区露天焚烧秸秆、落叶等产生烟尘污染的物质。违反规定的，由县级以上地方人民政府确定的监督管理部门责令改正，可以处五百元以上二千元以下的罚款。

第三条 医疗卫生机构应当对医疗废物进行登记。登记资料至少保存三年。

第四条 排放挥发性有机物（VOCs）的企业事业单位，应当安装使用污染防治设施。
"""


def tiny_corpus() -> Corpus:
    meta = DocumentMeta("test-law", "测试污染防治条例", "regulation", "测试", "2024-01-01", "t.md")
    return parse_sources([(meta, LAW.encode("utf-8"))])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Corpus, FakeEmbedder]:
    data = tmp_path_factory.mktemp("data")
    settings = Settings(corpus_dir=data / "corpus", data_dir=data)
    corpus = tiny_corpus()
    emb = FakeEmbedder()
    build_index(settings, emb, corpus)
    return settings, corpus, emb


def test_index_holds_both_channels_and_reports_them(built) -> None:  # type: ignore[no-untyped-def]
    settings, corpus, emb = built
    index = load_index(settings, emb.model_id, corpus)
    assert index.channels is not None
    n = len(corpus.passages)
    # Article 2 has two sentences; every other article is one and reuses its passage vector.
    assert index.channels.sentences.size == n + 1
    assert index.manifest["sentences"] == n + 1
    assert index.manifest["sentence_embeddings_computed"] == 2
    assert (live_dir(settings.resolved_index_dir) / "bm25_char").is_dir()


def test_a_missing_channel_is_a_damaged_index(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, corpus, emb = built
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(settings.resolved_index_dir, copy)
    shutil.rmtree(live_dir(copy) / "sentences")
    broken = Settings(corpus_dir=settings.corpus_dir, data_dir=settings.data_dir, index_dir=copy)
    with pytest.raises(IndexError_, match="sentences"):
        load_index(broken, emb.model_id, corpus)


def test_rebuilding_embeds_nothing_new(built) -> None:  # type: ignore[no-untyped-def]
    settings, corpus, emb = built
    manifest = build_index(settings, emb, corpus)
    assert manifest["embeddings_computed"] == 0 and manifest["sentence_embeddings_computed"] == 0


def _searcher(built, **weights: float) -> Searcher:  # type: ignore[no-untyped-def]
    settings, corpus, emb = built
    fusion = load_fusion().with_weights(**{c: 0.0 for c in CHANNELS}).with_weights(**weights)
    return Searcher(load_index(settings, emb.model_id, corpus), emb, fusion)


def test_every_channel_ranks_the_matching_article_first(built) -> None:  # type: ignore[no-untyped-def]
    s = _searcher(built, **{c: 1.0 for c in CHANNELS})
    rankings = s.channel_rankings("我家隔壁烧秸秆，会被罚款吗？", None, 10, expansion="露天焚烧")
    assert set(rankings) == set(CHANNELS) - {"abbrev"}  # the question holds no abbreviation
    second = next(i for i, p in enumerate(s.passages) if p.section[-1] == "第二条")
    for name in ("bm25", "expanded", "char", "sentence_ask"):
        assert rankings[name][0] == second, name


def test_question_and_asking_clause_share_one_model_call(built) -> None:  # type: ignore[no-untyped-def]
    s = _searcher(built, dense=1.0, sentence=1.0, dense_ask=1.0, sentence_ask=1.0)
    emb = s.embedder
    assert isinstance(emb, FakeEmbedder)
    before = len(emb.calls)
    s.rank("医院的废物记录，要保存几年？", "hybrid")
    calls = emb.calls[before:]
    assert calls == [("query", ("医院的废物记录，要保存几年？", "要保存几年"))]
    s.rank("医院的废物记录，要保存几年？", "hybrid", doc_ids=["test-law"])
    assert len(emb.calls) == before + 1  # the second ranking reuses both vectors


def test_abbreviations_are_learnt_at_build_and_expand_queries(built) -> None:  # type: ignore[no-untyped-def]
    s = _searcher(built, abbrev=1.0)
    channels = s.index.channels
    assert channels is not None and ("vocs", "挥发性有机物") in channels.abbreviations
    assert set(s.channel_rankings("VOCs排放要装什么", None, 10)) == {"abbrev"}
    assert s.search("VOCs排放要装什么", k=1)[0].passage.section[-1] == "第四条"


def test_channels_off_take_no_part(built) -> None:  # type: ignore[no-untyped-def]
    s = _searcher(built, char=1.0)
    assert set(s.channel_rankings("挥发性有机物", None, 10)) == {"char"}
    hits = s.search("挥发性有机物", k=2)
    assert hits[0].passage.section[-1] == "第四条"


def test_bm25_and_dense_modes_ignore_the_fusion(built) -> None:  # type: ignore[no-untyped-def]
    s = _searcher(built, char=1.0)
    assert s.search("医疗废物登记", k=1, mode="bm25")[0].passage.section[-1] == "第三条"
    assert s.search("医疗废物登记资料保存", k=1, mode="dense")[0].passage.section[-1] == "第三条"


def _two_tiers() -> Corpus:
    """The same law twice: first as a reference-tier copy, then as the core document."""
    ref = DocumentMeta(
        "ref-law", "参考污染防治条例", "regulation", "测试", "2024-01-01", "r.md", tier="reference"
    )
    core = DocumentMeta("test-law", "测试污染防治条例", "regulation", "测试", "2024-01-01", "t.md")
    return parse_sources([(ref, LAW.encode("utf-8")), (core, LAW.encode("utf-8"))])


def test_reference_documents_rank_below_the_core_and_carry_no_sentence_vectors(tmp_path: Path) -> None:
    settings = Settings(corpus_dir=tmp_path / "corpus", data_dir=tmp_path)
    corpus, emb = _two_tiers(), FakeEmbedder()
    build_index(settings, emb, corpus)
    index = load_index(settings, emb.model_id, corpus)
    assert index.channels is not None
    core = [i for i, p in enumerate(corpus.passages) if p.doc_id == "test-law"]
    assert set(index.channels.sentences.owner.tolist()) == set(core)

    question = "医疗废物登记资料保存多久"
    # Both copies match alike in every channel but sentences (which only the core has), and the
    # reference copy comes first in the corpus: without sentences and the tier factor it wins
    # the tie, with the factor it ranks second.
    words_only = load_fusion().with_weights(sentence=0.0, sentence_ask=0.0)
    flat = Searcher(index, emb, words_only.with_tiers(reference=1.0))
    assert [h.passage.doc_id for h in flat.search(question, k=2)] == ["ref-law", "test-law"]
    tiered = Searcher(index, emb, words_only)
    top = tiered.search(question, k=2)
    assert [h.passage.doc_id for h in top] == ["test-law", "ref-law"] and "登记" in top[0].passage.text
    assert Searcher(index, emb).search(question, k=1)[0].passage.doc_id == "test-law"
    # Asked for by id, the reference document ranks on its own, unpenalised.
    only = tiered.search(question, k=1, doc_ids=["ref-law"])
    assert only[0].passage.doc_id == "ref-law" and "登记" in only[0].passage.text
    assert only[0].score == flat.search(question, k=1, doc_ids=["ref-law"])[0].score
