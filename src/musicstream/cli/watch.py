"""The command that keeps running batches: ``watch``."""

from __future__ import annotations

import json

import typer

from musicstream.cli.common import (
    Config,
    Engine,
    Lake,
    LogFormat,
    StoreName,
    app,
    require_writable,
    settings_from,
)


@app.command()
def watch(
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Run a batch whenever settled files are in landing, until Ctrl-C or SIGTERM.

    One line per batch (files, rows, dates, seconds, landed → in the store). The first
    Ctrl-C/SIGTERM lets the batch in progress finish, then exits 0; a second stops at once
    (exit 130/143: the next run finishes that batch). A failed batch is retried with backoff.
    """
    from musicstream import interrupts
    from musicstream import watch as watch_mod
    from musicstream.cli.stop import exit_now

    settings = settings_from(config, log_format, lake=lake, engine=engine, store=store)
    require_writable(settings)
    as_json = settings.log_format == "json"

    def report(outcome: watch_mod.Outcome) -> None:
        line = json.dumps(watch_mod.as_json(outcome), default=str) if as_json else None
        typer.echo(line or watch_mod.describe(outcome))

    typer.echo(watch_mod.starting(settings), err=True)
    stop = watch_mod.Stop()
    try:
        with stop.installed():
            watch_mod.watch(settings, report, stop.event)
    except BaseException as exc:
        stopped = interrupts.translated(exc)
        if stop.signals < 2 or not isinstance(stopped, interrupts.Interrupted):
            raise
        typer.echo(
            f"stopped by {stopped.signal_name} during a batch: the next run or watch finishes it",
            err=True,
        )
        exit_now(stopped.exit_code)
    typer.echo("stopped", err=True)
