"""Retrieval smoke benchmark: 20 questions written from the plan, hit@1 / hit@5 per mode,
and in-process search latency (median of 50). Prints figures; asserts nothing.

    .venv/bin/python scripts/smoke_retrieval.py
"""

from __future__ import annotations

import statistics
import time

from indexer.settings import get_settings
from service.engine import load_engine

# (question, a substring of the passage that answers it), from reading the plan.
SMOKE = [
    ("2025年建成区PM2.5浓度要降到多少", "细颗粒物（PM2.5）浓度"),
    ("空气质量优良天数比率的目标", "城市空气质量优良天数比率"),
    ("十三五期间优良天数有多少天", "优良天数252天"),
    ("农村生活污水治理率要达到多少", "农村生活污水治理率"),
    ("林木覆盖率到2025年稳定在多少", "林木覆盖率稳定在35%以上"),
    ("机动车怎么管控，老旧车淘汰", "加强移动污染源管控"),
    ("秸秆禁烧怎么管", "加大秸秆禁烧管控"),
    ("餐饮油烟怎么治理", "加强餐饮油烟等污染管控"),
    ("加油站油气回收有什么要求", "油气回收"),
    ("三河大厂香河污水厂出水执行什么标准", "京B标准"),
    ("医疗废物焚烧处置项目什么时候建成", "市医废焚烧处置项目"),
    ("每个乡镇要建几个医疗废物周转站", "医疗废物周转站"),
    ("中水利用率要达到多少", "中水利用率达到45%"),
    ("声环境功能区夜间达标率目标", "夜间达标率达到85%以上"),
    ("北部协同发展区包括哪些县", "北部协同发展区"),
    ("南部优化发展区的定位", "南部优化发展区"),
    ("规划什么时候开展中期评估", "中期评估"),
    ("危险废物智能化监管体系", "危险废物智能化监管体系"),
    ("放射源怎么监管", "放射源"),
    ("测土配方施肥覆盖率", "测土配方施肥"),
]


def main() -> None:
    engine = load_engine(get_settings(), build_if_missing=False)
    for mode in ("bm25", "dense", "hybrid"):
        h1 = h5 = 0
        for q, needle in SMOKE:
            hits = engine.search(q, k=5, mode=mode)
            ranks = [h.rank for h in hits if needle in h.passage.text]
            h1 += bool(ranks and ranks[0] == 1)
            h5 += bool(ranks)
        print(f"{mode:7s} hit@1 {h1 / len(SMOKE):.2f}  hit@5 {h5 / len(SMOKE):.2f}  (n={len(SMOKE)})")
    timings = []
    for i in range(50):
        q = SMOKE[i % len(SMOKE)][0]
        t0 = time.perf_counter()
        engine.search(q, k=5, mode="hybrid")
        timings.append((time.perf_counter() - t0) * 1000)
    median, worst = statistics.median(timings), max(timings)
    print(f"hybrid search latency: median {median:.1f} ms, max {worst:.1f} ms (50 queries)")


if __name__ == "__main__":
    main()
