"""Which scored sentences an extractive answer quotes: how many, how long, how close to the best."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service.answer import MAX_SENTENCES, Scored, pick_sentences


def _scored(*items: tuple[str, float]) -> list[Scored]:
    text = "".join(s for s, _ in items)
    p = Passage("p:0", "doc", ("一、总则",), text, 0, len(text))
    hit = Hit(p, 1.0, 1, "文件")
    out, start = [], 0
    for s, score in items:
        out.append(Scored(hit, start, start + len(s), score))
        start += len(s)
    return sorted(out, key=lambda x: -x.score)


def test_up_to_four_sentences_close_to_the_best_are_quoted() -> None:
    scored = _scored(*((f"第{i}句说了一件不同的事。", 1.0 - i / 100) for i in range(6)))
    picked = pick_sentences(scored)
    assert MAX_SENTENCES == 4 and len(picked) == 4
    assert [p.text for p in picked] == [f"第{i}句说了一件不同的事。" for i in range(4)]


def test_a_sentence_far_below_the_best_or_over_the_budget_is_left_out() -> None:
    scored = _scored(("最好的一句。", 1.0), ("差得多的一句。", 0.5), ("接近的一句。", 0.9))
    assert [p.text for p in pick_sentences(scored)] == ["最好的一句。", "接近的一句。"]
    long = "很长" * 100 + "。"
    scored = _scored(("最好的一句。", 1.0), (long, 0.95), ("短句。", 0.9))
    assert [p.text for p in pick_sentences(scored, limit_chars=60)] == ["最好的一句。", "短句。"]
