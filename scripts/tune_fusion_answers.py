"""Refine the hybrid fusion on what users see: answer-pipeline figures on the DEV split only.

`scripts/tune_fusion.py` chooses weights by retrieval hit@1 / hit@5; the answers that rest on the
ranking (sentence choice, decisions, citations) do not always follow. Starting from the shipped
fusion (indexer/data/fusion.toml), this script changes one setting at a time (RRF k in K_STEPS,
one channel's weight in W_STEPS), runs the whole answer pipeline on every dev question with the
real index and model, and keeps a change only when the objective

    answer hit@1 + hit@5 + key facts + abstention recall - 2 * false abstention

rises by more than MIN_GAIN (about one question's worth: smaller rises are noise). Passes repeat
until none is kept, at most MAX_PASSES. Test questions are only dropped, never scored.

    nice .venv/bin/python scripts/tune_fusion_answers.py [--write]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval import metrics  # noqa: E402
from eval.runner import GoldItem, load_gold  # noqa: E402
from eval.split import split_of  # noqa: E402
from indexer.fusion import CHANNELS, Fusion, load_fusion  # noqa: E402

K_STEPS = (5.0, 10.0)
W_STEPS = (0.0, 0.5, 1.0)
MIN_GAIN = 0.006
MAX_PASSES = 2
FUSION_TOML = ROOT / "indexer" / "data" / "fusion.toml"


def describe(f: Fusion) -> str:
    return f"k={f.k:g} " + " ".join(f"{c}={w:g}" for c, w in f.weights if w > 0)


def objective(agg: dict) -> float:
    parts = [agg.get("hit@1"), agg.get("hit@5"), agg.get("keyfact_acc"), agg.get("abstain_recall")]
    return sum(p or 0.0 for p in parts) - 2 * (agg.get("false_abstain") or 0.0)


def score(engine, items: list[GoldItem], fusion: Fusion) -> dict:  # type: ignore[no-untyped-def]
    engine.searcher.use_fusion(fusion)
    rows = []
    for item in items:
        payload = engine.ask_payload(item.question)
        rows.append(
            {"type": item.type, "tags": list(item.tags), **metrics.score_answer(asdict(item), payload)}
        )
    return metrics.aggregate(rows)


def line(label: str, agg: dict) -> str:
    return (
        f"| {label} | {agg['hit@1']:.3f} | {agg['hit@5']:.3f} | {agg['keyfact_acc']:.3f} | "
        f"{agg['abstain_recall']:.3f} | {agg['false_abstain']:.3f} | {objective(agg):.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold")
    parser.add_argument("--write", action="store_true", help="store the result in fusion.toml")
    args = parser.parse_args()

    from indexer.settings import get_settings
    from scripts.tune_fusion import write_fusion
    from service.engine import load_engine

    items = [g for g in load_gold(args.gold) if split_of(g.id) == "dev"]
    engine = load_engine(get_settings())
    best = load_fusion()
    best_agg = score(engine, items, best)
    print(f"dev split: {len(items)} questions; answer pipeline\n")
    print("| fusion | hit@1 | hit@5 | key facts | abst. recall | false abst. | objective |")
    print("|---|---|---|---|---|---|---|")
    print(line(f"shipped ({describe(best)})", best_agg))
    for _ in range(MAX_PASSES):
        kept = False
        steps = [best.with_weights(k=k) for k in K_STEPS if k != best.k]
        steps += [best.with_weights(**{c: w}) for c in CHANNELS for w in W_STEPS if w != best.weight(c)]
        for candidate in steps:
            if not candidate.active:
                continue
            agg = score(engine, items, candidate)
            gain = objective(agg) - objective(best_agg)
            mark = "kept" if gain > MIN_GAIN else "tried"
            print(line(f"{mark}: {describe(candidate)}", agg))
            if gain > MIN_GAIN:
                best, best_agg, kept = candidate, agg, True
        if not kept:
            break
    print()
    print(line(f"chosen ({describe(best)})", best_agg))
    if args.write:
        write_fusion(best, FUSION_TOML)
        print(f"wrote {FUSION_TOML}")


if __name__ == "__main__":
    main()
