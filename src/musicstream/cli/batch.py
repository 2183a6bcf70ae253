"""Commands that process batches: run, replay, backfill, one stage."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from musicstream.cli.common import (
    Config,
    Engine,
    Lake,
    LogFormat,
    StoreName,
    app,
    date_range,
    emit,
    require_writable,
    settings_from,
)


@app.command()
def run(
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
    threads: int | None = None,
) -> None:
    """Process the landing zone once: validate, curate, compute KPIs, load, archive.

    Ctrl-C or SIGTERM stops it at the next step boundary (exit 130/143; the next run finishes
    the batch)."""
    from musicstream import console, interrupts, pipeline

    settings = settings_from(
        config, log_format, lake=lake, engine=engine, store=store, threads=threads
    )
    require_writable(settings)
    shown = settings.progress and settings.log_format == "text"
    with interrupts.safe_points(), console.step_progress(shown, "run") as bar:
        summary = pipeline.run(settings, on_step=bar, display=bar)
    emit(settings, summary, console.print_run_summary)


@app.command()
def replay(
    reason: Annotated[
        list[str], typer.Option("--reason", help="unknown_track and/or unknown_user (repeat).")
    ],
    batch: Annotated[
        list[str] | None, typer.Option("--batch", help="Only this batch's quarantine (repeat).")
    ] = None,
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Re-validate streams quarantined for a song or user that arrived later, as a new batch."""
    from musicstream import console, interrupts
    from musicstream import replay as replay_mod

    settings = settings_from(config, log_format, lake=lake, engine=engine, store=store)
    require_writable(settings)
    progress = settings.progress and settings.log_format == "text"
    with interrupts.safe_points(), console.step_progress(progress, "replay") as step:
        report = replay_mod.replay(settings, reason, batch, on_step=step)
    emit(settings, report, replay_mod.render)


@app.command()
def backfill(
    date_from: Annotated[str, typer.Option("--from")],
    date_to: Annotated[str, typer.Option("--to")],
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Recompute and reload the KPIs of a date range from the curated lake."""
    from musicstream import console, interrupts, pipeline

    settings = settings_from(config, log_format, lake=lake, engine=engine, store=store)
    start, end = date_range(date_from, date_to)
    require_writable(settings)
    shown = settings.progress and settings.log_format == "text"
    with interrupts.safe_points(), console.step_progress(shown, "backfill") as bar:
        dates = pipeline.backfill(settings, start, end, display=bar)
    console.console.print(f"Recomputed {len(dates)} date(s) between {start} and {end}.")


@app.command()
def stage(
    name: Annotated[str, typer.Argument(help="validate, compute_kpis, load, archive, reject, …")],
    batch_id: Annotated[str, typer.Option("--batch-id")],
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
) -> None:
    """Run one stage of one batch and print its JSON result (Airflow, spark-submit, Glue)."""
    from musicstream import interrupts
    from musicstream.pipeline import tasks

    settings = settings_from(config, None, lake=lake, engine=engine, store=store, progress=False)
    require_writable(settings)
    with interrupts.safe_points():
        result = tasks.run_stage(name, settings, batch_id)
    typer.echo(json.dumps(result, default=str))
