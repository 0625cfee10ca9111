"""A later part of a multi-part answer leaves out what an earlier part already quoted."""

from __future__ import annotations

from indexer.records import Hit, Passage
from service.draft import Line, Piece, piece_key, unrepeated


def _hit(pid: str) -> Hit:
    return Hit(Passage(pid, "plan", ("五、大气",), f"{pid}的正文。", 0, 5), 1.0, 1)


def _line(pid: str, source: str) -> Line:
    return Line("sentence", (Piece(source, _hit(pid), "。", source),))


def test_lines_an_earlier_part_quoted_are_dropped_and_that_part_is_named() -> None:
    first = _line("p1", "推进挥发性有机物深度治理")
    given = {piece_key(first.pieces[0]): 1}
    kept, earlier = unrepeated([first, _line("p2", "实施清洁生产改造")], given)
    assert [line.pieces[0].source for line in kept] == ["实施清洁生产改造"]
    assert earlier == 1


def test_the_same_passage_quoted_for_another_sentence_is_kept() -> None:
    given = {piece_key(_line("p1", "第一句").pieces[0]): 1}
    kept, earlier = unrepeated([_line("p1", "第二句")], given)
    assert len(kept) == 1 and earlier is None


def test_framing_lines_without_a_citation_stay() -> None:
    label = Line("label", (Piece("相关法规："),))
    kept, _ = unrepeated([label], {})
    assert kept == (label,)
