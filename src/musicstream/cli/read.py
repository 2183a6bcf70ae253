"""Commands that read: the ledger's status, KPIs from the store, a dry run of files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from musicstream.cli.common import (
    Config,
    Lake,
    LogFormat,
    Output,
    StoreName,
    app,
    emit,
    parse_date,
    settings_from,
)


@app.command()
def status(
    lake: Lake = None,
    config: Config = None,
    log_format: LogFormat = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Run the data-health checks instead; exit 1 (and alert) when one fires.",
        ),
    ] = False,
) -> None:
    """The ledger: batches, files, dates, and data quality."""
    from musicstream import status as status_mod

    settings = settings_from(config, log_format, lake=lake)
    if check:
        health = status_mod.check(settings)
        emit(settings, health, status_mod.render_check)
        if health["warnings"]:
            raise typer.Exit(1)
        return
    report = status_mod.collect(settings)
    emit(settings, report, status_mod.render)


@app.command()
def kpis(
    table: Annotated[str, typer.Argument(help="KPI table (e.g. genre_daily), or songs / users.")],
    day: Annotated[str | None, typer.Option("--date")] = None,
    date_from: Annotated[str | None, typer.Option("--from")] = None,
    date_to: Annotated[str | None, typer.Option("--to")] = None,
    genre: str | None = None,
    track: Annotated[str | None, typer.Option(help="track_id (track_daily, songs).")] = None,
    user: Annotated[str | None, typer.Option(help="user_id (user_daily, users).")] = None,
    period: Annotated[
        str | None, typer.Option(help="day, week or month (active_listeners).")
    ] = None,
    lake: Lake = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
    output: Annotated[
        Output, typer.Option("--format", help="How to print the rows.")
    ] = Output.table,
) -> None:
    """Read KPIs from the serving store (a key lookup or a key-range query, never a scan).

    \b
    A date's rows:     genre_daily, top_songs_daily [--genre G], top_genres_daily,
                       country_daily, top_artists_daily, hourly_activity  --date D
    One key, a range:  genre_daily --genre G | track_daily --track ID |
                       user_daily --user ID  --from A --to B (or --date D)
    Periods:           active_listeners --period day|week|month --from A --to B
                       (bounds of period_start; or --date = one period_start)
    Dimensions:        songs --track ID | users --user ID
    """
    from musicstream import console
    from musicstream.stores import KpiQuery, create_store

    settings = settings_from(config, log_format, lake=lake, store=store)
    query = KpiQuery(
        table,
        parse_date(day, "--date"),
        parse_date(date_from, "--from"),
        parse_date(date_to, "--to"),
        genre,
        track,
        user,
        period,
    )
    query.check()
    kv = create_store(settings, read_only=True)
    try:
        rows = kv.query(query)
    finally:
        kv.close()
    console.print_rows(table, rows, output.value)


@app.command("validate")
def validate_cmd(
    path: Annotated[Path, typer.Argument(help="A CSV file or a landing-style folder.")],
    dataset: Annotated[str | None, typer.Option(help="songs, users or streams")] = None,
    lake: Lake = None,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Dry run: what would be kept and quarantined, and why. Writes nothing."""
    from musicstream import dryrun

    settings = settings_from(config, log_format, lake=lake)
    report = dryrun.dry_run(settings, path, dataset)
    emit(settings, report, dryrun.render)


@app.command("sql")
def sql_cmd(
    query: Annotated[str, typer.Argument(help="SQL (DuckDB dialect) over the lake's tables.")],
    lake: Lake = None,
    config: Config = None,
    output: Annotated[
        Output, typer.Option("--format", help="How to print the rows.")
    ] = Output.table,
) -> None:
    """Ad-hoc SQL on the lake's Parquet: one view per table, as musicstream.connect() gives.

    \b
    Views: every KPI table (report_date a DATE), batch_quality, the curated
    streams / songs / users, quarantine_songs / _users / _streams / _files.
    Example: musicstream sql "select genre, sum(listen_count) as plays
             from genre_daily where report_date >= '2026-01-01' group by genre"
    """
    from musicstream import analyst, console

    settings = settings_from(config, None, lake=lake)
    rows = analyst.query_rows(settings.lake, query)
    console.print_rows("sql", rows, output.value)
