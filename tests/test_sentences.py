"""Sentence splitting and the sentence vector index (deterministic fake embedder, real FAISS)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.sentences import SentenceIndex, sentence_units, split_sentences
from tests.fake_embed import FakeEmbedder


def test_splits_at_chinese_sentence_ends_and_line_breaks() -> None:
    text = "加强机动车排放检验管理工作。严格新车环保达标监管！是否可以推迟呢？开展路检路查；\n强化油品质量监督检查"
    assert split_sentences(text, min_chars=4) == [
        "加强机动车排放检验管理工作。",
        "严格新车环保达标监管！",
        "是否可以推迟呢？",
        "开展路检路查；",
        "强化油品质量监督检查",
    ]


def test_short_pieces_join_the_next_sentence() -> None:
    assert split_sentences("第三条。国家实行排污许可管理制度。") == ["第三条。国家实行排污许可管理制度。"]


def test_a_short_last_piece_joins_the_one_before() -> None:
    assert split_sentences("国家实行排污许可管理制度。见附表。") == ["国家实行排污许可管理制度。见附表。"]


def test_a_text_shorter_than_the_minimum_is_one_sentence() -> None:
    assert split_sentences("总则") == ["总则"]
    assert split_sentences("") == []


def test_single_sentence_passages_reuse_the_passage_text() -> None:
    units = sentence_units(
        ["国家实行排污许可管理制度。", "加强秸秆禁烧全过程管控工作。严格落实县乡村三级工作机制。"],
        [
            "第三条 国家实行排污许可管理制度。",
            "（二）大气 加强秸秆禁烧全过程管控工作。严格落实县乡村三级工作机制。",
        ],
    )
    assert units.texts == (
        "第三条 国家实行排污许可管理制度。",
        "加强秸秆禁烧全过程管控工作。",
        "严格落实县乡村三级工作机制。",
    )
    assert units.owner.tolist() == [0, 1, 1]


def test_a_passage_scores_its_best_sentence(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    units = sentence_units(
        ["医疗废物集中处置设施建设。秸秆禁烧视频监控全覆盖。", "城市绿化覆盖率稳定提高。"],
        ["p0", "p1"],
    )
    index = SentenceIndex.build(emb.embed(units.texts), units.owner, 2)
    index.save(tmp_path / "s")
    loaded = SentenceIndex.load(tmp_path / "s", 2)
    scores = loaded.passage_scores(emb.embed(["秸秆禁烧视频监控"], kind="query")[0])
    assert scores.shape == (2,) and scores[0] > scores[1]
    # The best sentence, not the average: equal to that sentence's own similarity.
    q = emb.embed(["秸秆禁烧视频监控"])[0]
    assert scores[0] == pytest.approx(float(emb.embed(["秸秆禁烧视频监控全覆盖。"])[0] @ q), abs=1e-5)


def test_load_rejects_owners_outside_the_passages(tmp_path: Path) -> None:
    emb = FakeEmbedder()
    SentenceIndex.build(emb.embed(["一句话而已的测试"]), np.array([5], dtype=np.int32), 6).save(
        tmp_path / "s"
    )
    with pytest.raises(ValueError):
        SentenceIndex.load(tmp_path / "s", 2)


def test_passages_left_out_get_no_sentences_and_score_minus_one() -> None:
    emb = FakeEmbedder()
    texts = ["医疗废物集中处置设施建设。秸秆禁烧视频监控全覆盖。", "秸秆禁烧视频监控全覆盖。"]
    units = sentence_units(texts, ["p0", "p1"], keep=[False, True])
    assert units.texts == ("p1",) and units.owner.tolist() == [1]
    index = SentenceIndex.build(emb.embed(units.texts), units.owner, 2)
    scores = index.passage_scores(emb.embed(["秸秆禁烧视频监控"], kind="query")[0])
    assert scores[0] == -1.0 and scores[1] > -1.0
    with pytest.raises(ValueError):
        sentence_units(texts, ["p0", "p1"], keep=[True])


def test_a_filtered_dense_search_equals_filtering_every_score() -> None:
    from indexer.dense import DenseIndex

    rng = np.random.default_rng(3)
    vecs = rng.standard_normal((300, 16)).astype(np.float32)
    index = DenseIndex.build(vecs)
    q = index.vectors()[7] + 0.1
    positions = np.flatnonzero(rng.random(300) < 0.3)
    scores, ids = index.search_within(q, 10, positions)
    every = index.vectors() @ q
    want = positions[np.argsort(-every[positions], kind="stable")[:10]]
    assert ids.tolist() == want.tolist() and np.allclose(scores, every[want], atol=1e-5)
    assert set(ids.tolist()) <= set(positions.tolist())
    # Unfiltered, the FAISS search and the full similarity pass agree.
    _, top = index.search(q, 5)
    assert top.tolist() == np.argsort(-every, kind="stable")[:5].tolist()
    assert len(index.search_within(q, 50, positions[:3])[1]) == 3
    assert len(index.search_within(q, 5, np.array([], dtype=np.int64))[1]) == 0
