"""Choose the fused-score factor of reference-tier documents on the DEV split of eval/gold only.

A bulk library (tier ``reference``) beside the plan and its laws must not push the passages the
gold questions need out of the top ranks, and must stay findable itself. For each factor in the
grid this prints, over a data directory whose store holds the library as ``reference``:

- dev answer hit@1 / hit@5 and hybrid search hit@1 / hit@5 (the gold questions, all about the
  core documents);
- a known-item probe of the library: for a fixed sample of reference passages, one of the
  passage's own sentences is searched (hybrid, top 5) and the passage must come back.

    PLANQA_DATA_DIR=/path/with/library .venv/bin/python scripts/tune_tiers.py [--factors 1,0.5,0.3]

Test questions are dropped before anything is scored.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval import metrics  # noqa: E402
from eval.runner import load_gold, select_split  # noqa: E402
from indexer.sentences import split_sentences  # noqa: E402

PROBES = 120
MIN_SENTENCE = 16


def probe_items(engine: object, n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(passage id, one of its sentences) for a fixed sample of reference passages."""
    corpus = engine.searcher.index.corpus  # type: ignore[attr-defined]
    reference = {d.meta.id for d in corpus.documents if d.meta.tier == "reference"}
    passages = [p for p in engine.searcher.passages if p.doc_id in reference]  # type: ignore[attr-defined]
    rng = random.Random(seed)
    out = []
    for p in rng.sample(passages, min(n * 2, len(passages))):
        sents = [s for s in split_sentences(p.text) if len(s) >= MIN_SENTENCE]
        if sents:
            out.append((p.id, rng.choice(sents)[:80]))
        if len(out) == n:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--factors", default="1,0.7,0.5,0.35,0.2")
    args = parser.parse_args()
    from indexer.embed import prefer_passive_openmp

    prefer_passive_openmp()
    from service.engine import load_engine

    engine = load_engine(build_if_missing=False)
    dev = [asdict(g) for g in select_split(load_gold(ROOT / "eval" / "gold"), "dev")]
    probes = probe_items(engine, PROBES)
    base = engine.searcher.fusion
    print(f"{len(dev)} dev questions, {len(probes)} library probes")
    print("| factor | answer hit@1 | answer hit@5 | hybrid hit@1 | hybrid hit@5 | library probe hit@5 |")
    print("|---|---|---|---|---|---|")
    for factor in (float(f) for f in args.factors.split(",")):
        engine.searcher.use_fusion(base.with_tiers(reference=factor))
        ans = [metrics.score_answer(g, engine.ask_payload(g["question"])) for g in dev]
        hyb = [
            metrics.score_passages(g, engine.search_payload(g["question"], 10, "hybrid")["results"])
            for g in dev
        ]
        found = 0
        for pid, sentence in probes:
            ids = [r["passage_id"] for r in engine.search_payload(sentence, 5, "hybrid")["results"]]
            found += pid in ids
        a, h = metrics.aggregate(ans), metrics.aggregate(hyb)
        print(
            f"| {factor:g} | {a['hit@1']:.3f} | {a['hit@5']:.3f} | {h['hit@1']:.3f} | {h['hit@5']:.3f} "
            f"| {found / max(len(probes), 1):.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
