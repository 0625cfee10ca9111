"""Writes report.json, report.md and chart.png, and checks the CI floors in eval/floors.toml."""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .metrics import question_quality
from .runner import PLANQA_MODES
from .split import split_of

FLOORS_FILE = Path(__file__).resolve().parent / "floors.toml"
EPSILON = 1e-9
COLUMNS = [
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("keyfact_acc", "key facts"),
    ("fact_recall", "fact recall"),
    ("quote_acc", "quote"),
    ("section_acc", "section"),
    ("abstain_precision", "abst. P"),
    ("abstain_recall", "abst. R"),
    ("false_abstain", "false abst."),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
]
HEADLINE = ("hit@1", "hit@5", "mrr", "keyfact_acc")
CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Microsoft YaHei",
)


# ---- floors ---------------------------------------------------------------------------------


def load_floors(path: Path = FLOORS_FILE) -> list[dict[str, Any]]:
    floors: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8")).get("floor", [])
    return floors


def _view(aggregates: Mapping[str, Any], mode: str, floor: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The aggregate a floor speaks of: a mode, optionally one split, optionally one tag or type."""
    view: Any = aggregates.get(mode, {})
    if floor.get("split"):
        view = view.get("splits", {}).get(floor["split"], {})
    if floor.get("tag"):
        return view.get("by_tag", {}).get(floor["tag"])
    if floor.get("type"):
        return view.get("by_type", {}).get(floor["type"])
    return view.get("overall")


def _floor_name(floor: Mapping[str, Any], mode: str) -> str:
    scope = [floor[k] for k in ("split", "tag", "type") if floor.get(k)]
    return f"{mode} {' '.join(scope)} {floor['metric']}".replace("  ", " ")


def check_floors(report: Mapping[str, Any], floors: Sequence[Mapping[str, Any]] | None = None) -> list[str]:
    """Every floor the report misses, in words. A floor that cannot be measured is a miss too."""
    aggregates = report.get("aggregates", {})
    violations = []
    for floor in load_floors() if floors is None else floors:
        mode, metric = floor["mode"], floor["metric"]
        name = _floor_name(floor, mode)
        value = (_view(aggregates, mode, floor) or {}).get(metric)
        if value is None:
            violations.append(f"{name}: not measured in this run")
            continue
        if "min" in floor and value + EPSILON < float(floor["min"]):
            violations.append(f"{name} = {value:.3f}, below the floor {float(floor['min']):.2f}")
        if "max" in floor and value - EPSILON > float(floor["max"]):
            violations.append(f"{name} = {value:.3f}, above the ceiling {float(floor['max']):.2f}")
        if "min_mode" in floor:
            other = floor["min_mode"]
            ref = (_view(aggregates, other, floor) or {}).get(metric)
            if ref is None:
                violations.append(f"{name}: {other} was not measured in this run to compare with")
            elif value + EPSILON < ref:
                violations.append(f"{name} = {value:.3f}, below {other}'s {ref:.3f}")
    return violations


# ---- atomic files ---------------------------------------------------------------------------


def _atomic(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary shared files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    _atomic(path, lambda fh: fh.write(text.encode("utf-8")))


# ---- markdown -------------------------------------------------------------------------------


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key.startswith("latency"):
        return f"{value:.0f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _cell(text: Any, limit: int = 120) -> str:
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat.replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def _columns_used(aggs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(k, label) for k, label in COLUMNS if any(a.get(k) is not None for a in aggs)]


def _rank(row: Mapping[str, Any]) -> str:
    if not row.get("scored_retrieval"):
        return "–"
    return str(row["rank"]) if row.get("rank") is not None else "miss"


def worst_questions(report: Mapping[str, Any], n: int = 10) -> list[Mapping[str, Any]]:
    """Dev questions with the lowest mean quality over planqa's own modes (or all modes if none
    ran). Test questions are never listed: they are held out, read as a score only."""
    modes = report["meta"]["modes"]
    judged = [m for m in modes if m in PLANQA_MODES] or list(modes)
    scored = []
    for q in report["questions"]:
        if split_of(q["id"]) == "test":
            continue
        values = [v for m in judged if (v := question_quality(q["results"][m])) is not None]
        if values:
            scored.append((sum(values) / len(values), q["id"], q))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [q for _, _, q in scored[:n]]


def _worst_section(report: Mapping[str, Any]) -> list[str]:
    lines = ["## The 10 worst questions (dev split only; test questions are not listed)", ""]
    for q in worst_questions(report):
        lines.append(f"### {q['id']} ({q['type']}) — {_cell(q['question'], 200)}")
        lines.append("")
        lines.append(f"- gold section: {_cell(q['section'] or '–', 200)}")
        if q["evidence"]:
            lines.append(f"- evidence: {_cell(q['evidence'][0], 200)}")
        if q["answer_facts"]:
            lines.append(f"- key facts: {_cell('；'.join(q['answer_facts']), 200)}")
        rows = []
        for mode, r in q["results"].items():
            # An abstained answer cites nothing; what it offered as related is still worth seeing.
            top, label = (r["returned"], "") if r.get("returned") else (r.get("related") or [], "related: ")
            first = (
                f"{label}{top[0]['doc_id']} · {top[0]['section'] or '–'} · {top[0]['text']}" if top else "–"
            )
            verdict = r.get("error") or (
                f"abstained; {r.get('answer', '')}" if r.get("abstained") else r.get("answer", "")
            )
            rows.append(
                [
                    mode,
                    _rank(r),
                    _fmt("keyfact", r.get("keyfact")),
                    _cell(first, 140),
                    _cell(verdict, 160),
                ]
            )
        lines += ["", *_table(["mode", "rank", "key facts", "top passage", "answer / error"], rows)]
    return lines


def _overall_table(
    aggs: Mapping[str, Any], modes: Sequence[str], pick: Callable[[Mapping[str, Any]], Mapping[str, Any]]
) -> list[str]:
    overall = [pick(aggs[m])["overall"] for m in modes]
    cols = _columns_used(overall)
    rows = [
        [m, str(o["n"]), *(_fmt(k, o.get(k)) for k, _ in cols), str(o["errors"])]
        for m, o in zip(modes, overall, strict=True)
    ]
    return _table(["mode", "n", *(label for _, label in cols), "errors"], rows)


def _gap_section(aggs: Mapping[str, Any], modes: Sequence[str]) -> list[str]:
    """Dev minus test per headline metric: a large positive gap means fitting to the dev questions."""
    keys = [k for k in (*HEADLINE, "abstain_recall", "false_abstain")]
    rows = []
    for m in modes:
        dev, test = aggs[m]["splits"]["dev"]["overall"], aggs[m]["splits"]["test"]["overall"]
        cells = []
        for k in keys:
            a, b = dev.get(k), test.get(k)
            cells.append("–" if a is None or b is None else f"{a - b:+.3f}")
        rows.append([m, *cells])
    return ["## Dev − test gap", "", *_table(["mode", *(dict(COLUMNS)[k] for k in keys)], rows)]


def _tag_section(aggs: Mapping[str, Any], modes: Sequence[str]) -> list[str]:
    tags = sorted({t for m in modes for t in aggs[m]["splits"]["test"].get("by_tag", {})})
    if not tags:
        return []
    lines = ["## Test split by tag", ""]
    for tag in tags:
        per_mode = [aggs[m]["splits"]["test"]["by_tag"].get(tag) for m in modes]
        cols = _columns_used([a for a in per_mode if a])
        rows = [
            [m, str(a["n"]), *(_fmt(k, a.get(k)) for k, _ in cols)]
            for m, a in zip(modes, per_mode, strict=True)
            if a
        ]
        lines += [f"### {tag}", "", *_table(["mode", "n", *(label for _, label in cols)], rows)]
    return lines


def render_markdown(report: Mapping[str, Any], violations: Sequence[str] | None = None) -> str:
    meta, aggs = report["meta"], report["aggregates"]
    modes = meta["modes"]
    lines = [
        "# planqa evaluation",
        "",
        f"- created: {meta['created']}",
        f"- target: {meta['target']}; embedding model: {meta.get('embedding_model') or '–'}",
        f"- questions: {meta['n_questions']}; "
        f"search top-k {meta['search_top_k']}, ask top-k {meta['ask_top_k']}",
        "- retrieval hits: a returned passage (or two returned passages joined) contains a gold evidence "
        "string, compared after NFKC with whitespace removed; MRR counts ranks 1–10.",
        "- baselines (lc-*) answer with their top passage, so their key-fact score is "
        '"facts contained in the top passage".',
        "",
        "## Overall",
        "",
    ]
    lines += _overall_table(aggs, modes, lambda a: a)
    if all("splits" in aggs[m] for m in modes):
        n_split = meta.get("n_by_split", {})
        for split, title in (("test", "Test split (held out: never tuned on)"), ("dev", "Dev split")):
            lines += [f"## {title}, {n_split.get(split, '?')} questions", ""]
            lines += _overall_table(aggs, modes, lambda a, s=split: a["splits"][s])  # type: ignore[misc]
        lines += _gap_section(aggs, modes)
        lines += _tag_section(aggs, modes)

    if violations is not None:
        lines += ["## Floors (eval/floors.toml)", ""]
        lines += [f"- FAIL: {v}" for v in violations] if violations else ["- all floors met", ""]
        lines.append("")

    types = sorted({t for m in modes for t in aggs[m]["by_type"]})
    lines += ["## By type", ""]
    for key in HEADLINE:
        if not any(aggs[m]["overall"].get(key) is not None for m in modes):
            continue
        lines += [f"### {dict(COLUMNS)[key]}", ""]
        rows = [[t, *(_fmt(key, aggs[m]["by_type"].get(t, {}).get(key)) for m in modes)] for t in types]
        lines += _table(["type", *modes], rows)

    lines += ["## By mode", ""]
    for m in modes:
        by_type = aggs[m]["by_type"]
        cols = _columns_used(list(by_type.values()))
        lines += [f"### {m}", ""]
        rows = [[t, str(a["n"]), *(_fmt(k, a.get(k)) for k, _ in cols)] for t, a in by_type.items()]
        lines += _table(["type", "n", *(label for _, label in cols)], rows)

    lines += _worst_section(report)
    return "\n".join(lines).rstrip() + "\n"


# ---- chart ----------------------------------------------------------------------------------


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def render_chart(report: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = _cjk_font()
    zh = font is not None
    aggs, modes = report["aggregates"], report["meta"]["modes"]
    keys = [
        k
        for k, _ in COLUMNS
        if not k.startswith("latency") and any(aggs[m]["overall"].get(k) is not None for m in modes)
    ]
    labels = dict(COLUMNS)
    with plt.rc_context({"font.sans-serif": [font, "DejaVu Sans"]} if font else {}):
        fig, (bars, curve) = plt.subplots(1, 2, figsize=(15, 5.5), gridspec_kw={"width_ratios": [3, 2]})
        width = 0.8 / max(len(modes), 1)
        for i, mode in enumerate(modes):
            values = [aggs[mode]["overall"].get(k) for k in keys]
            xs = [j + i * width for j, v in enumerate(values) if v is not None]
            bars.bar(xs, [v for v in values if v is not None], width=width, label=mode)
        bars.set_xticks([j + width * (len(modes) - 1) / 2 for j in range(len(keys))])
        bars.set_xticklabels([labels[k] for k in keys], rotation=20)
        bars.set_ylim(0, 1.05)
        bars.set_title("各模式总体指标" if zh else "Metrics per mode")
        bars.legend(fontsize="small", ncol=2)
        ks = list(range(1, 11))
        for mode in modes:
            hits = aggs[mode]["overall"].get("hit_curve") or []
            if hits:
                curve.plot(ks[: len(hits)], hits, marker="o", label=mode)
        curve.set_xticks(ks)
        curve.set_ylim(0, 1.05)
        curve.set_xlabel("k")
        curve.set_ylabel("hit@k")
        curve.set_title("检索命中率 hit@k" if zh else "Retrieval hit@k")
        curve.legend(fontsize="small")
        curve.grid(alpha=0.3)
        fig.tight_layout()
        _atomic(path, lambda fh: fig.savefig(fh, format="png", dpi=110))
        plt.close(fig)


def write_report(
    report: Mapping[str, Any], out_dir: Path, violations: Sequence[str] | None = None
) -> list[Path]:
    """Write the three report files into out_dir; returns their paths."""
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "chart.png"]
    write_text_atomic(paths[0], json.dumps(report, ensure_ascii=False, separators=(",", ":")) + "\n")
    write_text_atomic(paths[1], render_markdown(report, violations))
    render_chart(report, paths[2])
    return paths
