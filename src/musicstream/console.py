"""Terminal output: run summaries, KPI tables, the ledger, and step progress."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

console = Console()


class StepBar:
    """The running stage of a run, with a bar where its work is countable (dates loaded),
    a spinner where it is not; a pipeline ``Display`` (pipeline/stages.py)."""

    def __init__(self, progress: Progress | None, title: str) -> None:
        self.progress, self.title = progress, title
        self.task = None if progress is None else progress.add_task(title, total=None)

    def start(self, name: str, total: int | None) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.reset(self.task, total=total, description=f"{self.title}: {name}")

    def advance(self, n: int = 1) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, n)

    def end(self) -> None:
        pass

    def __call__(self, step: str) -> None:
        """The pipeline's step hook: nothing to show (the stage already names it)."""


@contextlib.contextmanager
def step_progress(enabled: bool, title: str) -> Iterator[StepBar]:
    """A progress line naming the running stage; yields the pipeline's display (and step
    hook). Off when not a terminal: piped output gets the stage log lines instead."""
    if not enabled or not console.is_terminal:
        yield StepBar(None, title)
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield StepBar(progress, title)


@contextlib.contextmanager
def file_progress(title: str, total: int) -> Iterator[Any]:
    """A bar over ``total`` files, naming the last one written; yields the per-file hook."""
    if not console.is_terminal:
        yield lambda path: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(title, total=total)
        yield lambda path: bar.update(task, advance=1, description=f"{title}: {path.name}")


def print_generated(summary: Any) -> None:
    """What ``generate`` wrote: files and rows per dataset, the bad rows it planted."""
    rows = [
        {
            "dataset": name,
            "files": len(summary.files[name]),
            "rows": summary.rows[name],
            "bad rows planted": summary.bad_rows(name),
            "reasons": ", ".join(
                f"{r} {n:,}" for r, n in sorted(summary.injected.get(name, {}).items()) if n
            ),
        }
        for name in summary.files
    ]
    console.print(rows_table(f"Generated into {summary.out_dir}", rows))


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
    stages = summary.get("stages") or {}
    if stages:
        timings = " · ".join(f"{name} {seconds:.2f}s" for name, seconds in stages.items())
        console.print(f"Stages: {timings}", highlight=False)
    for warning in summary.get("warnings") or []:
        console.print(f"[yellow]warning ({warning.get('check')}): {warning.get('message')}[/]")


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
