"""CLI commands of the analysis layer: ``catalog ddl|duckdb``, ``query`` and ``report``.

Thin shells: parse options, call one function, print. Importing this module stays cheap
(typer only); duckdb, sqlglot, plotly and matplotlib load inside the command that runs.
User mistakes (no lake, unknown query, bad date, no data) end with one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

LAKE_ENV = "MUSICSTREAM_LAKE"
_REPORT_EXTRA = {"plotly", "matplotlib", "sqlglot"}


class Format(StrEnum):
    """Output format of ``query``."""

    table = "table"
    csv = "csv"
    parquet = "parquet"


_DAY = ["%Y-%m-%d"]
Lake = Annotated[
    str | None,
    typer.Option("--lake", envvar=LAKE_ENV, show_envvar=True, help="Lake root: path or URL."),
]
From = Annotated[
    datetime | None,
    typer.Option("--from", formats=_DAY, metavar="YYYY-MM-DD", help="First report date."),
]
To = Annotated[
    datetime | None,
    typer.Option("--to", formats=_DAY, metavar="YYYY-MM-DD", help="Last report date."),
]


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn the report layer's user-facing errors into one stderr line and exit code 2,
    and a missing optional library into the hint to install the ``report`` extra."""
    from musicstream.report.lakeio import ReportError

    try:
        yield
    except ReportError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing not in _REPORT_EXTRA:
            raise
        typer.echo(f"error: {missing} is missing: install the 'report' extra", err=True)
        raise typer.Exit(2) from None


def _lake(lake: str | None) -> str:
    if not lake:
        typer.echo(f"error: no lake given: pass --lake PATH_OR_URL or set {LAKE_ENV}", err=True)
        raise typer.Exit(2)
    return lake


def catalog_ddl(
    lake: Lake = None,
    database: Annotated[str, typer.Option(help="Athena database name.")] = "musicstream",
    projection_start: Annotated[
        datetime | None,
        typer.Option(
            formats=_DAY, metavar="YYYY-MM-DD", help="First date projected [default: 2020-01-01]."
        ),
    ] = None,
) -> None:
    """Print Athena CREATE EXTERNAL TABLE statements for every KPI and curated table."""
    with _user_errors():
        from musicstream.report.catalog import DEFAULT_PROJECTION_START, render_ddl

        start = _day(projection_start) or DEFAULT_PROJECTION_START
        typer.echo(render_ddl(_lake(lake), database, start), nl=False)


def catalog_duckdb(
    out: Annotated[
        Path, typer.Option(help="DuckDB database file to write (its views are replaced).")
    ],
    lake: Lake = None,
) -> None:
    """Write a DuckDB database file with a view per lake table, for BI tools (DBeaver, …).

    The views read the lake's Parquet in place by absolute path, as musicstream.connect()
    does; run it again once a table that had no files gets some.
    """
    with _user_errors():
        from musicstream.report.views import write_catalog

        empty = write_catalog(_lake(lake), out)
    if empty:
        typer.echo(f"no files yet (empty views): {', '.join(empty)}", err=True)
    typer.echo(str(out))


def query(
    name: Annotated[str | None, typer.Argument(help="Query name; omit to list them.")] = None,
    lake: Lake = None,
    date_from: From = None,
    date_to: To = None,
    top_n: Annotated[int, typer.Option(min=1, help="Rows kept by rankings.")] = 10,
    user_id: Annotated[
        str | None,
        typer.Option(help="The listener user_activity_trend follows [default: every one]."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
    athena: Annotated[
        bool, typer.Option("--athena", help="Print the Athena SQL, don't run.")
    ] = False,
) -> None:
    """Run an analyst query (Athena SQL) locally on DuckDB over the lake's Parquet."""
    with _user_errors():
        import duckdb

        from musicstream.report import lakeio, output, queries

        if name is None:
            typer.echo(queries.library_listing())
            return
        params = queries.Params(_day(date_from), _day(date_to), top_n, user_id=user_id)
        tables = queries.tables_read(name)
        with duckdb.connect() as con, lakeio.readable(_lake(lake), tables) as root:
            if athena:
                typer.echo(queries.athena_sql(con, root, name, params))
                return
            result = queries.run_query(con, root, name, params)
        output.write_result(result, fmt.value, out)


def report(
    lake: Lake = None,
    date_from: From = None,
    date_to: To = None,
    out: Annotated[Path, typer.Option(help="HTML file to write.")] = Path("report.html"),
    png: Annotated[
        Path | None,
        typer.Option(help="Also write the PNG charts (one per chart) into this folder."),
    ] = None,
) -> None:
    """Write the self-contained HTML listening report (and optionally PNG charts)."""
    with _user_errors():
        from musicstream.report.build import write_report

        _check_outputs(out, png)
        path = write_report(_lake(lake), out, _day(date_from), _day(date_to), png)
    typer.echo(str(path))


def _check_outputs(out: Path, png: Path | None) -> None:
    """Refuse a wrong kind of output path before anything is read or written.

    ``--png`` is a folder: the report has several charts, one PNG each, so a single file
    path cannot take them.
    """
    from musicstream.report.lakeio import ReportError

    if out.is_dir():
        raise ReportError(f"--out {out} is a folder: give the HTML file to write")
    if png is not None and png.exists() and not png.is_dir():
        raise ReportError(f"--png {png} is a file: give a folder for the chart PNGs")
    for folder in (out.parent, png):
        blocked = _file_in_the_way(folder) if folder is not None else None
        if blocked is not None:
            raise ReportError(f"cannot create folder {folder}: {blocked} is a file")


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest existing path at or above ``folder`` when it is not a folder."""
    for p in (folder, *folder.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def register(app: typer.Typer) -> None:
    """Add ``catalog ddl``, ``catalog duckdb``, ``query`` and ``report`` to the main CLI app."""
    catalog = typer.Typer(help="Catalogs of the lake: Athena DDL, DuckDB.", no_args_is_help=True)
    catalog.command("ddl")(catalog_ddl)
    catalog.command("duckdb")(catalog_duckdb)
    app.add_typer(catalog, name="catalog")
    app.command("query")(query)
    app.command("report")(report)
