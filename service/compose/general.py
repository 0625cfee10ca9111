"""Answers in the documents' own sentences: a whole law article, or the best plan sentences."""

from __future__ import annotations

from collections.abc import Sequence

from indexer.records import Passage

from .. import wording
from ..analyze import Query
from ..answer import Scored, act_terms, coverage, in_penalty_chapter
from ..draft import Line, Piece, quoted
from .context import Context

ARTICLE_CHARS = 700
SHORT_PASSAGE = 260


def article_passages(ctx: Context, p: Passage) -> list[Passage]:
    """The passages of the article (or section) a passage belongs to, in order: a long article
    is cut into several, and they stand next to one another in the corpus."""
    i = ctx.pos[p.id]
    start, end = i, i + 1
    while start > 0 and _same_unit(ctx.passages[start - 1], p):
        start -= 1
    while end < len(ctx.passages) and _same_unit(ctx.passages[end], p):
        end += 1
    return ctx.passages[start:end]


def _same_unit(x: Passage, p: Passage) -> bool:
    return x.doc_id == p.doc_id and x.section == p.section


def article_lines(ctx: Context, best: Scored) -> list[Line]:
    """A law answers with its whole article: obligations come as lists that must not be cut."""
    p = best.hit.passage
    parts = article_passages(ctx, p)
    if sum(len(x.text) for x in parts) > ARTICLE_CHARS:
        parts = [x for x in parts if x.id == p.id or x is parts[0]]
    article = p.section[-1]
    intro = wording.article_intro(best.hit.doc_title, article)
    # The article is quoted in its own order, but the part that matched best is what the answer
    # rests on: it gets citation [1], marked on the words that name the article.
    lead = len(parts) > 1 and parts[0].id != p.id
    pieces = [Piece(intro.removesuffix("："), best.hit, "：", p.text) if lead else Piece(intro)]
    for x in parts:
        hit = best.hit if x.id == p.id else ctx.hit(x)
        whole = Scored(hit, 0, len(x.text), 1.0)
        body = wording.sentence_body(x.text.removeprefix(article).strip())
        pieces.append(Piece(body, hit, "。", x.text, whole))
    return [Line("article", tuple(pieces))]


# The counterpart article joins when its best sentence scores at least this share of the lead's
# (dev: 0.3 and 0.5 gave key facts +0.003, 0.01 also moved three law questions down a rank).
COUNTERPART_SHARE = 0.5


# A penalty article leads in place of the best-scored one when it restates this much more of the
# act the question describes (dev, among articles scoring at least COUNTERPART_SHARE of the
# lead: a margin of 0.2 or 0.3 moved two law questions to their article and none away; 0.1 also
# moved two away, whose leads already restated most of the act).
ACT_MARGIN = 0.3


def restating_lead(ctx: Context, q: Query, best: Scored, scored: Sequence[Scored]) -> Scored:
    """For a penalty question answered by a 法律责任 article, the penalty article of that law
    that restates the act the question describes, as the law's duty sentence words it. A law
    lists many acts in its penalty articles; the one scored best may share the question's
    words about the fine (罚款, 责令改正) but punish another act."""
    lead = best.hit.passage
    if not q.asks_penalty or not in_penalty_chapter(lead):
        return best
    close = [s for s in scored if s.score >= COUNTERPART_SHARE * best.score]
    same_law = [s for s in close if s.hit.passage.doc_id == lead.doc_id and s.hit.passage.kind == "article"]
    duty = next((s for s in same_law if not in_penalty_chapter(s.hit.passage)), None)
    if duty is None:
        return best
    act = act_terms(q.groups, duty.text)
    if not act:
        return best
    first: dict[tuple[str, ...], Scored] = {}
    for s in same_law:
        if in_penalty_chapter(s.hit.passage):
            first.setdefault(s.hit.passage.section, s)
    share = {
        sec: coverage("".join(x.text for x in article_passages(ctx, s.hit.passage)), act, ctx.idf)
        for sec, s in first.items()
    }
    top = max(share, key=lambda sec: share[sec])
    return first[top] if share[top] > share[lead.section] + ACT_MARGIN else best


def counterpart_lines(best: Scored, scored: Sequence[Scored]) -> list[Line]:
    """For a question about a penalty, the other half of the law's answer: beside a 法律责任
    article, the duty it punishes; beside a duty, the article that punishes it. The asker wants
    both what is required and what follows, and each names what the other leaves implicit."""
    lead = best.hit.passage
    side = in_penalty_chapter(lead)
    for s in scored:
        p = s.hit.passage
        if s.score < COUNTERPART_SHARE * best.score:
            break
        if p.doc_id != lead.doc_id or p.section == lead.section or p.kind != "article":
            continue
        if in_penalty_chapter(p) == side:
            continue
        # A short article is quoted whole, a long one by its best sentence.
        quote = Scored(s.hit, 0, len(p.text), s.score) if len(p.text) <= SHORT_PASSAGE else s
        article = p.section[-1]
        body = wording.sentence_body(quote.text.removeprefix(article).strip())
        text = wording.related_law(s.hit.doc_title, article, body)
        return [Line("law", (Piece(text, s.hit, "。", quote.text, quote),))]
    return []


def whole_short_passages(picked: Sequence[Scored]) -> list[Scored]:
    """A short passage is quoted whole: its other sentences usually finish what the best one says."""
    out: list[Scored] = []
    used_chars = 0
    for s in picked:
        p = s.hit.passage
        whole = Scored(s.hit, 0, len(p.text), s.score)
        if any(o.hit.passage.id == p.id and o.start == 0 and o.end == len(p.text) for o in out):
            continue
        if len(p.text) <= SHORT_PASSAGE and used_chars + len(p.text) <= 2 * SHORT_PASSAGE:
            out.append(whole)
            used_chars += len(p.text)
        else:
            out.append(s)
            used_chars += len(s.text)
    return out


def sentence_lines(picked: Sequence[Scored]) -> list[Line]:
    return [Line("sentence", (quoted(s),)) for s in picked]
