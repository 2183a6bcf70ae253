"""Terminal output: run summaries, KPI tables, the ledger, and step progress."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()


@contextlib.contextmanager
def step_progress(enabled: bool, title: str) -> Iterator[Any]:
    """A spinner naming the step that just finished; yields the pipeline's on_step hook."""
    if not enabled or not console.is_terminal:
        yield lambda name: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(title)
        yield lambda name: progress.update(task, description=f"{title}: {name} done")


def rows_table(
    title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None
) -> Table:
    table = Table(title=title, title_justify="left")
    names = list(columns or (rows[0].keys() if rows else []))
    for name in names:
        numeric = bool(rows) and isinstance(rows[0].get(name), int | float)
        table.add_column(name, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(_fmt(row.get(n)) for n in names))
    return table


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def print_run_summary(summary: dict[str, Any]) -> None:
    if summary["status"] == "nothing_new":
        console.print("Nothing new in landing.")
        return
    console.print(
        f"[bold]Batch {', '.join(summary['batch_ids'])}[/]: {summary['files']} file(s), "
        f"{len(summary['dates'])} date(s) recomputed in {summary['duration_s']:.1f}s"
    )
    rows = []
    for name, d in summary["datasets"].items():
        reasons = ", ".join(f"{r} {n:,}" for r, n in sorted(d.get("reasons", {}).items()))
        rows.append(
            {
                "dataset": name,
                "files": d.get("files", 0),
                "read": d.get("read", 0),
                "kept": d.get("kept", 0),
                "quarantined": d.get("quarantined", 0),
                "reasons and warnings": reasons,
            }
        )
    console.print(rows_table("Rows", rows))
    whole = summary.get("files_quarantined", [])
    if whole:
        console.print(rows_table("Files quarantined whole", whole))
    for path in summary.get("files_left_in_landing", []):
        console.print(f"[yellow]{path} changed after planning: left in landing for the next run[/]")
    if summary["dates"]:
        console.print(f"Dates: {summary['dates'][0]} … {summary['dates'][-1]}")


def print_rows(title: str, rows: Sequence[dict[str, Any]], output: str = "table") -> None:
    """Rows as a rich table, JSON lines, or CSV on stdout."""
    import csv
    import json
    import sys

    if output == "json":
        for row in rows:
            sys.stdout.write(json.dumps(row, default=str) + "\n")
    elif output == "csv":
        if rows:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    elif rows:
        console.print(rows_table(title, rows))
    else:
        console.print(f"{title}: no rows")
