"""Character n-gram tokens and the character BM25 channel (no model)."""

from __future__ import annotations

from pathlib import Path

from indexer.chargram import char_tokens
from indexer.sparse import SparseIndex


def test_cjk_runs_give_unigrams_and_bigrams() -> None:
    assert char_tokens("秸秆禁烧") == ["秸", "秆", "禁", "烧", "秸秆", "秆禁", "禁烧"]


def test_latin_and_digit_runs_stay_whole() -> None:
    toks = char_tokens("2025年PM2.5浓度，VOCs治理")
    assert "2025" in toks and "pm2.5" in toks and "vocs" in toks
    assert "20" not in toks and "p" not in toks and "2" not in toks


def test_nfkc_folds_full_width_and_case() -> None:
    assert char_tokens("ＰＭ２．５") == ["pm2.5"]
    assert char_tokens("VOCs") == char_tokens("ｖｏｃｓ")


def test_no_bigram_across_punctuation_or_space() -> None:
    toks = char_tokens("排污，许可 证")
    assert "污许" not in toks and "可证" not in toks
    assert "排污" in toks and "许可" in toks


def test_character_bm25_matches_a_name_inside_a_compound(tmp_path: Path) -> None:
    # The question shares characters (永定, 堤) with the text but none of its words.
    texts = ["推进北运河永定河堤防绿化建设", "加强医疗废物集中处置", "城市建成区绿化覆盖率"]
    index = SparseIndex.build(texts, char_tokens)
    index.save(tmp_path / "c")
    loaded = SparseIndex.load(tmp_path / "c", char_tokens)
    scores = loaded.scores("永定的堤")
    assert int(scores.argmax()) == 0 and scores[1] == 0.0


def test_character_bm25_unknown_query_scores_zero() -> None:
    index = SparseIndex.build(["大气污染防治", "水污染防治"], char_tokens)
    assert not index.scores("xyz").any()
