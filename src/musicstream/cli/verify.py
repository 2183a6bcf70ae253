"""`musicstream verify`: the store against the lake, and the lake against its ledger."""

from __future__ import annotations

import shlex
from typing import Annotated, Any

import typer

from musicstream.cli.common import (
    Config,
    Lake,
    LogFormat,
    StoreName,
    app,
    emit,
    parse_date,
    settings_from,
)
from musicstream.errors import UserError


@app.command()
def verify(
    date_from: Annotated[
        str | None, typer.Option("--from", help="First date (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last date (YYYY-MM-DD).")] = None,
    table: Annotated[
        list[str] | None, typer.Option("--table", help="Only this KPI table (repeat).")
    ] = None,
    lake: Lake = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Check the serving store against the lake, and the lake against its ledger.

    Exit 0 when all matches, 1 naming each difference and the command that repairs it.
    Reads by key only, takes no lock, writes nothing.
    Default range: the lake's first to last date, and the dates the store's loads covered.
    """
    from musicstream import console
    from musicstream import verify as verify_mod

    settings = settings_from(config, log_format, lake=lake, store=store)
    start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    if start and end and start > end:
        raise UserError(f"--from {start} is after --to {end}")
    verify_mod.chosen_tables(table or ())
    flags = "".join(
        f" {o} {shlex.quote(str(v))}" for o, v in (("--store", store), ("--config", config)) if v
    )
    progress = settings.progress and settings.log_format == "text"
    with console.step_progress(progress, "verify") as step:
        report = verify_mod.verify(settings, start, end, table or (), step, flags)
    emit(settings, report.summary(), render)
    if not report.ok:
        raise typer.Exit(1)


def render(summary: dict[str, Any]) -> None:
    """One line when all matches; else a table of findings, one line each."""
    from rich.table import Table
    from rich.text import Text

    from musicstream.console import console

    checked = f"{len(summary['tables'])} tables × {summary['dates']} dates checked"  # noqa: RUF001
    if summary["ok"]:
        console.print(f"store matches the lake: {checked}", markup=False, highlight=False)
        return
    table = Table(
        title=f"{len(summary['findings'])} difference(s); {checked}", title_justify="left"
    )
    for name in ("table", "date", "problem", "repair"):
        table.add_column(name, overflow="fold")
    for f in summary["findings"]:
        where = f"{f['table']} ({f['period']})" if f["period"] else f["table"]
        table.add_row(*(Text(v) for v in (where, f["day"] or "", f["problem"], f["repair"])))
    console.print(table)
