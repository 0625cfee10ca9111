"""What each retrieval channel and the everyday-wording table add, measured on the TEST split.

This is a report, not a tuning step: nothing here changes a weight or a rule. Each variant runs
`planqa eval --split test --modes hybrid,answer` in its own process with one setting changed
(`PLANQA_FUSION_OFF=<channel>` or `PLANQA_EVERYDAY_TERMS=0`), on the live index, and the script
prints a Markdown table of the test figures (overall and the colloquial tag) beside the shipped
configuration. Channels whose shipped weight is 0 (indexer/data/fusion.toml) are not listed:
switching them off changes nothing.

    .venv/bin/python scripts/ablation.py [--out eval/reports/ablation] [--write]

With ``--write`` the table is stored as ``<out>/ablation.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.fusion import load_fusion  # noqa: E402

MODES = ("hybrid", "answer")
# (column heading, metric key, which view) per mode; "col" = the colloquial tag of the test split.
COLUMNS = {
    "hybrid": (("hit@1", "hit@1", "all"), ("hit@5", "hit@5", "all"), ("col. hit@5", "hit@5", "col")),
    "answer": (
        ("hit@1", "hit@1", "all"),
        ("hit@5", "hit@5", "all"),
        ("key facts", "keyfact_acc", "all"),
        ("false abst.", "false_abstain", "all"),
        ("col. hit@5", "hit@5", "col"),
        ("col. key facts", "keyfact_acc", "col"),
    ),
}


def variants() -> list[tuple[str, dict[str, str]]]:
    """The shipped configuration, then one change at a time."""
    active = load_fusion().active
    out: list[tuple[str, dict[str, str]]] = [("shipped", {})]
    out += [(f"without {name}", {"PLANQA_FUSION_OFF": name}) for name in active]
    out.append(("without the everyday-wording table", {"PLANQA_EVERYDAY_TERMS": "0"}))
    return out


def run_variant(name: str, env_change: dict[str, str], out: Path) -> dict[str, Any]:
    target = out / name.replace(" ", "-")
    env = {**os.environ, **env_change}
    cmd = [str(ROOT / ".venv" / "bin" / "planqa"), "eval", "--split", "test"]
    cmd += ["--modes", ",".join(MODES), "--out", str(target)]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    report: dict[str, Any] = json.loads((target / "report.json").read_text(encoding="utf-8"))
    return report


def figures(report: dict[str, Any], mode: str) -> list[float | None]:
    test = report["aggregates"][mode]["splits"]["test"]
    views = {"all": test["overall"], "col": test.get("by_tag", {}).get("colloquial", {})}
    return [views[view].get(key) for _, key, view in COLUMNS[mode]]


def table(results: list[tuple[str, dict[str, str], dict[str, Any]]]) -> str:
    n = results[0][2]["aggregates"]["answer"]["splits"]["test"]["overall"]["n"]
    lines = [
        "# Ablation on the test split",
        "",
        f"`scripts/ablation.py`: {n} test questions; one setting changed per row; "
        "the difference to the shipped row in brackets.",
        "",
    ]
    for mode in MODES:
        heads = [h for h, _, _ in COLUMNS[mode]]
        lines += [f"## {mode}", "", "| variant | setting | " + " | ".join(heads) + " |"]
        lines.append("|---|---|" + "---|" * len(heads))
        base = figures(results[0][2], mode)
        for name, change, report in results:
            cells = []
            for value, ref in zip(figures(report, mode), base, strict=True):
                if value is None:
                    cells.append("–")
                elif name == "shipped" or ref is None:
                    cells.append(f"{value:.3f}")
                else:
                    cells.append(f"{value:.3f} ({value - ref:+.3f})")
            setting = ", ".join(f"`{k}={v}`" for k, v in change.items()) or "–"
            lines.append(f"| {name} | {setting} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "reports" / "ablation")
    parser.add_argument("--write", action="store_true", help="store the table as <out>/ablation.md")
    args = parser.parse_args()
    results = [(name, change, run_variant(name, change, args.out)) for name, change in variants()]
    text = table(results)
    print(text)
    if args.write:
        (args.out / "ablation.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
