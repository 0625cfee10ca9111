"""`planqa eval`: score planqa and the LangChain baselines on the gold questions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from .runner import ALL_MODES, GoldError, Hooks, load_gold, parse_modes, run, select_split, take

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_MODES = ",".join(ALL_MODES)


class _RichHooks(Hooks):
    def __init__(self, progress: Any, console: Any) -> None:
        self.progress = progress
        self.console = console
        self.tasks: dict[str, Any] = {}

    def mode_started(self, mode: str, total: int) -> None:
        self.tasks[mode] = self.progress.add_task(mode, total=total)

    def step(self, mode: str) -> None:
        self.progress.advance(self.tasks[mode])

    def note(self, message: str) -> None:
        self.console.log(message)


def _summary_table(report: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"planqa eval — {report['meta']['n_questions']} questions")
    columns = [
        ("hit@1", "h@1"), ("hit@5", "h@5"), ("mrr", "MRR"), ("keyfact_acc", "facts"), ("quote_acc", "quote"),
        ("section_acc", "sect"), ("abstain_recall", "abst R"), ("false_abstain", "false A"),
        ("latency_p50_ms", "p50 ms"),
        ("latency_p95_ms", "p95 ms"),
    ]  # fmt: skip
    table.add_column("mode", no_wrap=True)
    for _, label in columns:
        table.add_column(label, justify="right", no_wrap=True)
    for mode in report["meta"]["modes"]:
        views = [("", report["aggregates"][mode])]
        splits = report["aggregates"][mode].get("splits", {})
        views += [(f" {k}", v) for k, v in splits.items() if v["overall"]["n"]]
        for suffix, view in views:
            table.add_row(mode + suffix, *_cells(view["overall"], columns))
    return table


def _cells(agg: dict[str, Any], columns: list[tuple[str, str]]) -> list[str]:
    cells = []
    for key, _ in columns:
        value = agg.get(key)
        cells.append(
            "–" if value is None else f"{value:.0f}" if key.startswith("latency") else f"{value:.3f}"
        )
    return cells


def eval_command(
    gold: Annotated[Path, typer.Option(help="A gold *.jsonl file, or a directory of them.")] = EVAL_DIR
    / "gold",
    url: Annotated[
        str | None, typer.Option(help="Score a running server through its public API (else in-process).")
    ] = None,
    modes: Annotated[str, typer.Option(help="Comma-separated modes to score.")] = DEFAULT_MODES,
    out: Annotated[
        Path | None, typer.Option(help="Report directory (default: eval/reports/runs/<timestamp>).")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="Bearer key for a server that requires one.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Score only N questions, taken round-robin across types.")
    ] = None,
    split: Annotated[
        str, typer.Option(help="all, dev or test: dev is for tuning; test is held out (eval/split.py).")
    ] = "all",
    check_floors: Annotated[
        bool, typer.Option("--check-floors", help="Exit 1 when a floor in eval/floors.toml is missed.")
    ] = False,
) -> None:
    """Score retrieval, citations, answers and abstention; write report.json, report.md, chart.png."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from indexer.errors import PlanqaError
    from indexer.settings import get_settings

    from . import report as reporting
    from .backends import BackendError

    console = Console(stderr=True)
    try:
        chosen = parse_modes(modes)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--modes") from exc
    try:
        items = take(select_split(load_gold(gold), split), limit)
    except GoldError as exc:
        console.print(f"[red]gold set: {exc}[/red]")
        raise typer.Exit(code=2) from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--split") from exc

    settings = get_settings()
    out_dir = out or EVAL_DIR / "reports" / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    columns = (TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            result = run(
                items, chosen, settings, url=url, api_key=api_key, hooks=_RichHooks(progress, console)
            )
    except (PlanqaError, BackendError) as exc:
        console.print(f"[red]{type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(code=1) from exc

    violations = reporting.check_floors(result)
    result["floors"] = violations
    paths = reporting.write_report(result, out_dir, violations)
    stdout = Console()
    if not stdout.is_terminal:  # piped output would otherwise be cut to 80 columns
        stdout = Console(width=140)
    stdout.print(_summary_table(result))
    errors = sum(result["aggregates"][m]["overall"]["errors"] for m in chosen)
    if errors:
        console.print(f'[yellow]{errors} call(s) failed; see report.json (field "error").[/yellow]')
    for path in paths:
        console.print(f"wrote {path}")
    if check_floors:
        if violations:
            for v in violations:
                console.print(f"[red]floor missed: {v}[/red]")
            raise typer.Exit(code=1)
        console.print("[green]all floors met[/green]")


def main() -> None:
    typer.run(eval_command)


if __name__ == "__main__":
    main()
