"""What every command shares: the app, its options, and settings built from them."""

from __future__ import annotations

import json
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


def settings_from(
    config: Path | None = None, log_format: str | None = None, **flags: Any
) -> Settings:
    settings = load_settings(config, log_format=log_format, **flags)
    setup_logging(settings.log_format)
    return settings


def parse_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{name} must be a date like 2026-01-31, not {value!r}") from None


def date_range(date_from: str, date_to: str) -> tuple[date, date]:
    """``--from``/``--to`` as dates; an empty range is a mistake, not zero dates."""
    start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    assert start is not None and end is not None
    if start > end:
        raise UserError(f"--from {start} is after --to {end}")
    return start, end


def require_writable(settings: Settings) -> None:
    """Before a command that writes: the lake exists, is a folder, and may be written."""
    from musicstream.lake import open_lake

    open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region).require_writable()


def require_folder(path: Path, option: str) -> None:
    """A folder to create or fill: neither it nor a parent of it may be a file."""
    for p in (path, *path.parents):
        if p.exists():
            if not p.is_dir():
                raise UserError(f"{option} {path}: {p} is a file, not a folder")
            return


def emit(settings: Settings, payload: dict[str, Any], render: Any) -> None:
    if settings.log_format == "json":
        typer.echo(json.dumps(payload, default=str))
    else:
        render(payload)
