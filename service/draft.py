"""An answer before it is written out: lines of pieces, each piece quoting one passage.

Composers build a Draft from data (sentences, articles, target records); the decision step reads
the Draft's sources; rendering alone turns it into text with ``[n]`` markers, numbering passages in
the order the answer first uses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.records import Hit

from .answer import Answer, Citation, Scored, quote_for
from .targets import Target


@dataclass(frozen=True)
class Piece:
    text: str  # what the answer says: a quoted sentence, a target statement, or framing words
    hit: Hit | None = None  # the passage it cites; its marker follows the text
    end: str = ""  # closing punctuation after the marker
    source: str = ""  # the document text this piece conveys (empty for framing words)
    span: Scored | None = None  # the quoted sentence(s), when the piece quotes prose


@dataclass(frozen=True)
class Line:
    kind: str  # indicator | sentence | article | county | county_task | zone | binding | law | label | lead
    pieces: tuple[Piece, ...]
    target: Target | None = None

    @property
    def cited(self) -> tuple[Piece, ...]:
        return tuple(p for p in self.pieces if p.hit is not None)


@dataclass(frozen=True)
class Draft:
    lines: tuple[Line, ...]
    scored: tuple[Scored, ...] = ()  # every scored sentence, for quotes of passages only listed
    targets: tuple[Target, ...] = ()

    def cited_pieces(self) -> list[Piece]:
        return [p for line in self.lines for p in line.cited]

    @property
    def chosen(self) -> tuple[Scored, ...]:
        """The sentences the answer quotes, for the citation quotes."""
        return spans(self.lines)


def spans(lines: Sequence[Line]) -> tuple[Scored, ...]:
    return tuple(p.span for line in lines for p in line.pieces if p.span is not None)


def quoted(s: Scored, end: str = "。") -> Piece:
    from .wording import sentence_body

    return Piece(sentence_body(s.text), s.hit, end, s.text, s)


def merge(drafts: Sequence[Draft], lines: Sequence[Line]) -> Draft:
    """One draft out of several (the parts of a multi-part question), with the given lines."""
    return Draft(
        tuple(lines),
        tuple(s for d in drafts for s in d.scored),
        tuple(dict.fromkeys(t for d in drafts for t in d.targets)),
    )


def piece_key(piece: Piece) -> str:
    """What a cited piece conveys, as parts of one answer compare it: passage and quoted text."""
    return f"{piece.hit.passage.id if piece.hit else ''}:{piece.source}"


def unrepeated(lines: Sequence[Line], given: Mapping[str, int]) -> tuple[tuple[Line, ...], int | None]:
    """The lines that say something ``given`` (piece key → the part that gave it) lacks, and the
    earliest part that already gave a dropped line: a later part of a multi-part answer does not
    repeat what an earlier one quoted (the sector's plan sentences came back in every part)."""
    kept: list[Line] = []
    earlier: int | None = None
    for line in lines:
        keys = [piece_key(p) for p in line.cited]
        if keys and all(k in given for k in keys):
            first = min(given[k] for k in keys)
            earlier = first if earlier is None else min(earlier, first)
            continue
        kept.append(line)
    return tuple(kept), earlier


def render(draft: Draft, listed: Sequence[Hit], top_k: int) -> Answer:
    """The answer text with markers, and its citations: the passages used, then ``listed`` ones
    up to ``top_k`` in all."""
    order: list[Hit] = []

    def number(hit: Hit) -> int:
        for i, h in enumerate(order):
            if h.passage.id == hit.passage.id:
                return i + 1
        order.append(hit)
        return len(order)

    out = []
    for line in draft.lines:
        for piece in line.pieces:
            marker = f"[{number(piece.hit)}]" if piece.hit is not None else ""
            out.append(f"{piece.text}{marker}{piece.end}")
    for hit in listed:
        if len(order) >= top_k:
            break
        number(hit)
    citations = tuple(
        Citation(i + 1, hit, quote_for(hit, draft.chosen, draft.scored)) for i, hit in enumerate(order)
    )
    return Answer("".join(out), False, citations, (), draft.targets)
