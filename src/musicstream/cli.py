"""The `musicstream` command: thin shells that build settings and call one function each."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from musicstream.errors import UserError
from musicstream.logs import setup_logging
from musicstream.settings import Settings, load_settings

app = typer.Typer(
    help="musicstream: raw song, user and stream exports in; validated, daily KPIs out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
store_app = typer.Typer(help="The KPI serving store.", no_args_is_help=True)
app.add_typer(store_app, name="store")

Lake = Annotated[str | None, typer.Option("--lake", help="Lake path or URL (file://, s3://).")]
Engine = Annotated[str | None, typer.Option("--engine", help="duckdb (default) or spark.")]
StoreName = Annotated[str | None, typer.Option("--store", help="sqlite (default) or dynamodb.")]
Config = Annotated[Path | None, typer.Option("--config", help="TOML settings file.")]
LogFormat = Annotated[str | None, typer.Option("--log-format", help="text or json.")]
Day = Annotated[str | None, typer.Option(help="A date, YYYY-MM-DD.")]


class Output(StrEnum):
    """How ``kpis`` prints its rows."""

    table = "table"
    json = "json"
    csv = "csv"


def _settings(config: Path | None = None, log_format: str | None = None, **flags: Any) -> Settings:
    settings = load_settings(config, log_format=log_format, **flags)
    setup_logging(settings.log_format)
    return settings


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} must be a date like 2026-01-31, not {value!r}") from None


def _range(date_from: str, date_to: str) -> tuple[date, date]:
    """``--from``/``--to`` as dates; an empty range is a mistake, not zero dates."""
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    assert start is not None and end is not None
    if start > end:
        raise UserError(f"--from {start} is after --to {end}")
    return start, end


def _writable_lake(settings: Settings) -> None:
    """Before a command that writes: the lake exists, is a folder, and may be written."""
    from musicstream.lake import open_lake

    open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region).require_writable()


def _folder(path: Path, option: str) -> None:
    """A folder to create or fill: neither it nor a parent of it may be a file."""
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise UserError(f"{option} {path}: {p} is a file, not a folder")
            return


@app.command()
def run(
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
    threads: int | None = None,
) -> None:
    """Process the landing zone once: validate, curate, compute KPIs, load, archive."""
    from musicstream import console, pipeline

    settings = _settings(config, log_format, lake=lake, engine=engine, store=store, threads=threads)
    _writable_lake(settings)
    with console.step_progress(settings.progress and settings.log_format == "text", "run") as step:
        summary = pipeline.run(settings, on_step=step)
    _emit(settings, summary, console.print_run_summary)


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
    from musicstream import console
    from musicstream import replay as replay_mod

    settings = _settings(config, log_format, lake=lake, engine=engine, store=store)
    _writable_lake(settings)
    progress = settings.progress and settings.log_format == "text"
    with console.step_progress(progress, "replay") as step:
        report = replay_mod.replay(settings, reason, batch, on_step=step)
    _emit(settings, report, replay_mod.render)


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
    from musicstream import console, pipeline

    settings = _settings(config, log_format, lake=lake, engine=engine, store=store)
    start, end = _range(date_from, date_to)
    _writable_lake(settings)
    dates = pipeline.backfill(settings, start, end)
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
    from musicstream.pipeline import tasks

    settings = _settings(config, None, lake=lake, engine=engine, store=store, progress=False)
    _writable_lake(settings)
    typer.echo(json.dumps(tasks.run_stage(name, settings, batch_id), default=str))


@app.command()
def status(lake: Lake = None, config: Config = None, log_format: LogFormat = None) -> None:
    """The ledger: batches, files, dates, and data quality."""
    from musicstream import status as status_mod

    settings = _settings(config, log_format, lake=lake)
    report = status_mod.collect(settings)
    _emit(settings, report, status_mod.render)


@app.command()
def kpis(
    table: Annotated[str, typer.Argument(help="KPI table, e.g. genre_daily.")],
    day: Annotated[str | None, typer.Option("--date")] = None,
    date_from: Annotated[str | None, typer.Option("--from")] = None,
    date_to: Annotated[str | None, typer.Option("--to")] = None,
    genre: str | None = None,
    track: str | None = None,
    lake: Lake = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
    output: Annotated[
        Output, typer.Option("--format", help="How to print the rows.")
    ] = Output.table,
) -> None:
    """Read KPIs from the serving store (a key lookup or a key-range query, never a scan)."""
    from musicstream import console
    from musicstream.stores import KpiQuery, create_store

    settings = _settings(config, log_format, lake=lake, store=store)
    query = KpiQuery(
        table,
        _date(day, "--date"),
        _date(date_from, "--from"),
        _date(date_to, "--to"),
        genre,
        track,
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

    settings = _settings(config, log_format, lake=lake)
    report = dryrun.dry_run(settings, path, dataset)
    _emit(settings, report, dryrun.render)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Landing folder to write into.")] = Path("lake/landing"),
    streams: int = 100_000,
    songs: int = 11_400,
    users: int = 10_000,
    days: int = 7,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-01",
    seed: int = 42,
    dirty: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    stream_files: int = 1,
) -> None:
    """Synthetic songs (Spotify Tracks layout), users and streams, at any scale."""
    from musicstream import console
    from musicstream.generate import generate as gen

    setup_logging("text")
    first = _date(start, "--start")
    assert first is not None
    _folder(out, "--out")
    summary = gen(
        out,
        streams=streams,
        songs=songs,
        users=users,
        days=days,
        start=first,
        seed=seed,
        dirty=dirty,
        stream_files=stream_files,
    )
    console.console.print(f"Generated into {out}: {summary}")


@app.command()
def demo(
    lake: Annotated[Path, typer.Option(help="Fresh demo lake folder.")] = Path("demo-lake"),
) -> None:
    """Generate a small dirty dataset, run it as two batches, and show the results."""
    from musicstream import demo as demo_mod

    setup_logging("text")
    _folder(lake, "--lake")
    demo_mod.run_demo(lake)


@app.command()
def unlock(lake: Lake = None, config: Config = None) -> None:
    """Remove the lake's run lock (only when the run that held it is dead)."""
    from musicstream.pipeline import lake_for
    from musicstream.state import LOCK, read_lock

    settings = _settings(config, None, lake=lake)
    _writable_lake(settings)
    target = lake_for(settings)
    holder = read_lock(target)
    target.remove(LOCK)
    typer.echo(f"removed lock {holder}" if holder else "no lock was held")


@app.command()
def repair(
    lake: Lake = None,
    engine: Engine = None,
    store: StoreName = None,
    config: Config = None,
    log_format: LogFormat = None,
) -> None:
    """Set damaged ledger files aside and make the lake consistent again (see `status`)."""
    from musicstream import repair as repair_mod

    settings = _settings(config, log_format, lake=lake, engine=engine, store=store)
    _writable_lake(settings)
    report = repair_mod.repair(settings)
    _emit(settings, report, repair_mod.render)


@store_app.command("init")
def store_init(lake: Lake = None, store: StoreName = None, config: Config = None) -> None:
    """Create the store's tables and indexes (idempotent)."""
    from musicstream.stores import create_store

    kv = create_store(_settings(config, None, lake=lake, store=store))
    try:
        kv.init()
    finally:
        kv.close()
    typer.echo("store ready")


def _emit(settings: Settings, payload: dict[str, Any], render: Any) -> None:
    if settings.log_format == "json":
        typer.echo(json.dumps(payload, default=str))
    else:
        render(payload)


def _register_extensions() -> None:
    from musicstream.deploy.commands import register as register_deploy

    register_deploy(app)
    try:
        from musicstream.report.commands import register
    except ImportError:  # the report package is optional
        return
    register(app)


def _usage_error(exc: Any) -> None:
    """A click usage error (bad option, bad value, missing argument) as one line."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help text itself (as typer checks it)
        exc.show()
    else:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        print(f"error: {message}{hint}", file=sys.stderr)
    sys.exit(exc.exit_code)


def main() -> None:
    """Entry point: user mistakes become one clear line and exit code 2."""
    _register_extensions()
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except (typer.Exit, typer.Abort) as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click's errors
            _usage_error(exc)
        logging.getLogger("musicstream").exception("run failed")
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
