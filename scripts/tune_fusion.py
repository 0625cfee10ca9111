"""Choose the hybrid fusion (RRF k and channel weights) on the DEV split of eval/gold only.

The split is fixed by question id (eval/split.py): a question is in TEST when
``int(sha256(id).hexdigest(), 16) % 2 == 0``, else in DEV. This script reads test questions only
to drop them, and prints dev figures only.

What it does, on the search path that `mode=hybrid` uses (question + everyday-wording
expansion), with the real index and model:

1. ranks every dev question once per channel (depth 50, as the API does);
2. scores each channel alone, and the shipped configuration (indexer/data/fusion.toml);
3. searches a coarse grid: k in K_GRID, each weight in W_GRID, the word-BM25 weight fixed at 1
   (RRF is scale-free, so one weight can be fixed); the objective is hit@1 + hit@5 on dev,
   averaged over the configuration and its grid neighbours (one step in k or in one weight), so
   that a flat good region beats a lucky peak; ties go to the better point score, then MRR, then
   fewer active channels and smaller weights (a simpler fusion wins);
4. prints the ablation of the best configuration (each channel off in turn);
5. with ``--write``, stores the best configuration in indexer/data/fusion.toml.

    nice .venv/bin/python scripts/tune_fusion.py [--write] [--no-everyday]
    .venv/bin/python scripts/tune_fusion.py --export-dev /tmp/dev.jsonl   # then planqa eval --gold
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval import metrics  # noqa: E402
from eval.runner import GoldItem, load_gold  # noqa: E402
from eval.split import split_of  # noqa: E402
from indexer.fusion import CHANNELS, Fusion, fuse, load_fusion  # noqa: E402

K_GRID = (5, 10, 20, 40, 60)
W_GRID = (0.0, 0.5, 1.0)
DEPTH = 50
TOP = metrics.MAX_RANK
# What a channel alone amounts to for a question it has nothing extra for.
FALLBACK = {"expanded": "bm25", "abbrev": "bm25", "dense_ask": "dense", "sentence_ask": "sentence"}
FUSION_TOML = ROOT / "indexer" / "data" / "fusion.toml"


def is_dev(item_id: str) -> bool:
    return split_of(item_id) == "dev"


def dev_items(gold_dir: Path) -> list[GoldItem]:
    """Dev questions that have evidence to rank against."""
    return [g for g in load_gold(gold_dir) if is_dev(g.id) and any(e.strip() for e in g.evidence)]


@dataclass(frozen=True)
class Question:
    item: GoldItem
    rankings: dict[str, np.ndarray]


class Scorer:
    """hit@1 / hit@5 / MRR of a fusion over precomputed channel rankings (top-10 ranks memoised)."""

    def __init__(self, questions: Sequence[Question], texts: Sequence[str], n: int) -> None:
        self.questions = questions
        self.texts = texts
        self.n = n
        self._memo: dict[tuple[int, tuple[int, ...]], int | None] = {}

    def rank_of(self, i: int, top: tuple[int, ...]) -> int | None:
        key = (i, top)
        if key not in self._memo:
            q = self.questions[i]
            self._memo[key] = metrics.first_hit_rank([self.texts[p] for p in top], q.item.evidence)
        return self._memo[key]

    def ranks(self, order_of: Callable[[Question], np.ndarray]) -> list[int | None]:
        tops = [tuple(int(p) for p in order_of(q)[:TOP]) for q in self.questions]
        return [self.rank_of(i, top) for i, top in enumerate(tops)]

    def fused_ranks(self, fusion: Fusion) -> list[int | None]:
        def order(q: Question) -> np.ndarray:
            fused = fuse(q.rankings, self.n, fusion)
            top = np.argsort(-fused, kind="stable")[:TOP]
            return top[fused[top] > 0]

        return self.ranks(order)


def summary(ranks: Sequence[int | None]) -> tuple[float, float, float]:
    n = len(ranks)
    return (
        sum(metrics.hit_at(r, 1) for r in ranks) / n,
        sum(metrics.hit_at(r, 5) for r in ranks) / n,
        sum(metrics.reciprocal_rank(r) for r in ranks) / n,
    )


def row(label: str, ranks: Sequence[int | None], para: Sequence[bool]) -> str:
    h1, h5, mrr = summary(ranks)
    p = [r for r, is_para in zip(ranks, para, strict=True) if is_para]
    p1, p5, _ = summary(p) if p else (float("nan"),) * 3
    return f"| {label} | {h1:.3f} | {h5:.3f} | {mrr:.3f} | {p1:.3f} | {p5:.3f} |"


def describe(f: Fusion) -> str:
    return f"k={f.k:g} " + " ".join(f"{c}={w:g}" for c, w in f.weights if w > 0)


def grid(base: Fusion) -> list[Fusion]:
    others = [c for c in CHANNELS if c != "bm25"]
    out = []
    for k in K_GRID:
        for ws in itertools.product(W_GRID, repeat=len(others)):
            out.append(base.with_weights(k=k, bm25=1.0, **dict(zip(others, ws, strict=True))))
    return out


def objective(f: Fusion, ranks: Sequence[int | None]) -> tuple[float, ...]:
    h1, h5, mrr = summary(ranks)
    return (round(h1 + h5, 6), round(mrr, 6), -len(f.active), -sum(w for _, w in f.weights))


def neighbours(f: Fusion) -> list[Fusion]:
    out = []
    ks = list(K_GRID)
    i = ks.index(int(f.k)) if int(f.k) in ks else -1
    for j in (i - 1, i + 1):
        if i >= 0 and 0 <= j < len(ks):
            out.append(f.with_weights(k=ks[j]))
    for c, w in f.weights:
        if c == "bm25" or w not in W_GRID:
            continue
        a = W_GRID.index(w)
        for b in (a - 1, a + 1):
            if 0 <= b < len(W_GRID):
                out.append(f.with_weights(**{c: W_GRID[b]}))
    return out


def smoothed(f: Fusion, raw: dict[Fusion, tuple[tuple[float, ...], list[int | None]]]) -> float:
    """Mean hit@1 + hit@5 over the fusion and its grid neighbours."""
    values = [raw[g][0][0] for g in [f, *neighbours(f)] if g in raw]
    return sum(values) / len(values)


def write_fusion(f: Fusion, path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^k = .*$", f"k = {f.k:g}", text)
    for c, w in f.weights:
        text = re.sub(rf"(?m)^({re.escape(c)}\s*=\s*)[0-9.]+", rf"\g<1>{w:g}", text)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def export_dev(gold_dir: Path, out: Path) -> None:
    """The dev split as one gold file, for `planqa eval --gold` (answer-pipeline figures on dev)."""
    lines = []
    for file in sorted(gold_dir.glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip() and is_dev(json.loads(line)["id"]):
                lines.append(line)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} dev questions written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold")
    parser.add_argument("--write", action="store_true", help="store the best fusion in fusion.toml")
    parser.add_argument("--no-everyday", action="store_true", help="without the everyday-wording table")
    parser.add_argument(
        "--export-dev", type=Path, help="only write the dev questions (all of them) to this *.jsonl and stop"
    )
    args = parser.parse_args()
    if args.export_dev:
        export_dev(args.gold, args.export_dev)
        return

    from indexer.settings import get_settings
    from service.engine import load_engine
    from service.vocab import expand_query, load_vocab

    items = dev_items(args.gold)
    engine = load_engine(get_settings(), build_if_missing=False)
    searcher = engine.searcher
    vocab = load_vocab() if not args.no_everyday else replace(load_vocab(), everyday=())
    questions = []
    for item in items:
        expansion = " ".join(expand_query(item.question, vocab))
        rankings = searcher.channel_rankings(item.question, None, DEPTH, expansion, channels=CHANNELS)
        questions.append(Question(item, rankings))
    texts = [p.text for p in searcher.passages]
    scorer = Scorer(questions, texts, len(texts))
    para = [q.item.type == "paraphrase" or "colloquial" in q.item.tags for q in questions]
    shipped = load_fusion()

    print(f"dev split: {len(questions)} questions with evidence ({sum(para)} paraphrase or colloquial)")
    m = engine.manifest
    print(f"index: {m.get('passages')} passages, {m.get('sentences')} sentence vectors")
    print()
    print("| ranking | hit@1 | hit@5 | MRR | colloquial hit@1 | colloquial hit@5 |")
    print("|---|---|---|---|---|---|")
    for c in CHANNELS:
        # Questions without an expansion or an asking clause fall back to the plain question.
        fallback = FALLBACK.get(c, c)
        alone = scorer.ranks(lambda q, c=c, fb=fallback: q.rankings.get(c, q.rankings[fb]))
        print(row(f"{c} alone", alone, para))
    print(row(f"shipped fusion ({describe(shipped)})", scorer.fused_ranks(shipped), para))
    legacy = shipped.with_weights(**{c: 0.0 for c in CHANNELS}).with_weights(
        k=20, bm25=1.0, dense=1.0, expanded=0.6
    )
    print(row(f"previous hybrid ({describe(legacy)})", scorer.fused_ranks(legacy), para))

    candidates = grid(shipped)
    raw = {f: (objective(f, r), r) for f in candidates for r in [scorer.fused_ranks(f)]}
    best_raw = max(raw, key=lambda f: raw[f][0])
    # 81 questions move in steps of 1.2 points: a lone peak is likely luck. The chosen fusion is the
    # one whose grid neighbourhood (one step in k or in one weight) scores best on average.
    chosen = max(raw, key=lambda f: (smoothed(f, raw), raw[f][0]))
    print(row(f"best single point of {len(candidates)} ({describe(best_raw)})", raw[best_raw][1], para))
    print(row(f"chosen, best neighbourhood ({describe(chosen)})", raw[chosen][1], para))
    for c in CHANNELS:
        if c != "bm25" or chosen.weight(c) > 0:
            off = chosen.with_weights(**{c: 0.0})
            if c in chosen.active:
                print(row(f"chosen without {c}", scorer.fused_ranks(off), para))
    print()
    print("runners-up by neighbourhood:")
    ranked = sorted(raw, key=lambda f: (smoothed(f, raw), raw[f][0]), reverse=True)
    for f in ranked[1:6]:
        print(f"  {describe(f)}  neighbourhood={smoothed(f, raw):.3f} point hit@1+hit@5={raw[f][0][0]:.3f}")
    best = chosen
    if args.write:
        write_fusion(best, FUSION_TOML)
        print(f"wrote {FUSION_TOML.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
