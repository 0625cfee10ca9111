"""jieba with the domain dictionary and stopwords."""

from __future__ import annotations

import jieba

from indexer.tokenize import normalise, segment, stopwords, tokens


def test_domain_words_stay_whole() -> None:
    for word in ["大厂回族自治县", "北部协同发展区", "散乱污", "三线一单", "超低排放", "挥发性有机物"]:
        assert word in segment(f"关于{word}的要求"), word
    # Plain jieba splits these; the domain dictionary is what keeps them whole.
    plain = jieba.Tokenizer()
    for word in ["北部协同发展区", "散乱污", "三线一单", "超低排放"]:
        assert word not in plain.lcut(f"关于{word}的要求")


def test_latin_terms_are_normalised() -> None:
    assert "pm2.5" in tokens("ＰＭ２．５浓度")
    assert "vocs" in tokens("涂装VOCs治理")
    assert normalise("国Ⅲ") == normalise("国III")
    assert "国iii" in tokens("淘汰国Ⅲ及以下排放标准的汽油车")
    assert "京b标准" in tokens("出水标准对标京B标准")


def test_stopwords_and_punctuation_dropped() -> None:
    toks = tokens("请问我们的PM2.5目标是多少？")
    assert "请问" not in toks and "的" not in toks and "?" not in toks and "？" not in toks
    assert "多少" in stopwords()
    assert "目标" in toks


def test_search_mode_yields_parts_of_long_words() -> None:
    toks = tokens("大厂回族自治县")
    assert "大厂回族自治县" in toks and "大厂" in toks
