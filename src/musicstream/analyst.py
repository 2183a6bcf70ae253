"""The analysts' Python API: the lake's tables in DuckDB, and one KPI table as Arrow.

    import musicstream
    con = musicstream.connect("lake")          # one view per lake table
    con.sql("select genre, sum(listen_count) from genre_daily group by genre").show()
    musicstream.read_kpis("genre_daily", lake="lake", date_from="2026-01-01", genre="pop")

Both read the lake's Parquet (what the pipeline wrote), not the serving store. Only the
embedded default is needed (duckdb, pyarrow): nothing of the ``report`` extra.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import duckdb

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS, PERIOD_TABLES, PERIODS
from musicstream.errors import UserError
from musicstream.report import lakeio, views
from musicstream.report.tables import TABLES

if TYPE_CHECKING:
    import pyarrow as pa

DateLike = dt.date | str

# read_kpis' key filters, each named after the column it selects on
_KEY_FILTERS = ("genre", "track_id", "user_id", "period")


def connect(
    lake: str = "lake", *, tables: Iterable[str] | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per lake table.

    The views: every KPI table (``genre_daily`` … ``active_listeners``) and ``batch_quality``;
    the curated ``streams``, ``songs`` and ``users``; the quarantine as ``quarantine_songs``,
    ``quarantine_users``, ``quarantine_streams`` (bad rows with their reasons) and
    ``quarantine_files`` (files quarantined whole). ``report_date`` and ``period_start`` are
    DATE columns (``where report_date >= '2026-01-01'`` works); the partition keys come after
    the file columns, as in Athena. ``tables`` limits the views to those tables.

    A local lake is read in place, when a view is queried: a later run's rows show up, but a
    table that had no file at ``connect`` stays an empty view (with the table's columns)
    until the next ``connect``. An ``s3://`` lake is downloaded first (the tables' Parquet,
    concurrently, as ``musicstream query`` does) to a scratch folder that lives until the
    Python process exits: a snapshot; pass ``tables`` to fetch less. A lake folder that does
    not exist is a :class:`~musicstream.errors.UserError`.
    """
    names = _table_names(tables)
    if views.is_remote(lakeio.lake_root(lake)):
        snapshot = contextlib.ExitStack()
        root = snapshot.enter_context(lakeio.readable(lake, names))
        atexit.register(snapshot.close)
    else:
        root = views.local_root(lake)
    con = duckdb.connect()
    views.create_views(con, root, names)
    return con


def read_kpis(
    table: str,
    *,
    lake: str = "lake",
    date: DateLike | None = None,
    date_from: DateLike | None = None,
    date_to: DateLike | None = None,
    genre: str | None = None,
    track_id: str | None = None,
    user_id: str | None = None,
    period: str | None = None,
) -> pa.Table:
    """The rows of one KPI table from the lake, filtered, in the table's key order.

    ``date`` (one day) or ``date_from``/``date_to`` (inclusive, either may be open) bound
    ``report_date``, or ``period_start`` for ``active_listeners``; dates are
    ``datetime.date`` or ISO text. ``genre``, ``track_id``, ``user_id`` and ``period``
    select on the column of that name where the table has it. No filter: the whole table.
    Columns as ``musicstream kpis`` prints them, keys first; ``report_date`` is a date.
    A table without a file yet gives no rows. Call ``.to_pandas()`` for a DataFrame.
    """
    _check_table(table)
    keys = {"genre": genre, "track_id": track_id, "user_id": user_id, "period": period}
    where, params = _where(table, _day_range(date, date_from, date_to), keys)
    columns = ", ".join(views.ident(c) for c in KPI_COLUMNS[table])
    order = ", ".join(views.ident(c) for c in KPI_KEYS[table])
    sql = f"select {columns} from {views.ident(table)} {where} order by {order}"
    with _root(lake, [table]) as root, duckdb.connect() as con:
        views.create_views(con, root, [table])
        return con.sql(sql, params=params).to_arrow_table()


def query_rows(lake: str, sql: str) -> list[dict[str, Any]]:
    """Run ``sql`` on the views of :func:`connect`: the rows as dicts (none for a statement
    without a result). A SQL mistake is a UserError of one line."""
    con = connect(lake)
    try:
        result = con.sql(sql)
        if result is None:
            return []
        columns, rows = result.columns, result.fetchall()
    except duckdb.Error as error:
        raise UserError(views.one_line(error)) from None
    finally:
        con.close()
    return [dict(zip(columns, row, strict=True)) for row in rows]


@contextlib.contextmanager
def _root(lake: str, names: list[str]) -> Iterator[str]:
    """A local folder holding ``names`` of the lake: the lake itself, or a scratch copy."""
    if views.is_remote(lakeio.lake_root(lake)):
        with lakeio.readable(lake, names) as root:
            yield root
    else:
        yield views.local_root(lake)


def _table_names(tables: Iterable[str] | None) -> list[str]:
    if tables is None:
        return list(TABLES)
    names = [tables] if isinstance(tables, str) else list(tables)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise UserError(f"unknown table {unknown[0]!r}; one of {', '.join(TABLES)}")
    return names


def _check_table(table: str) -> None:
    if table not in KPI_KEYS:
        raise UserError(f"unknown KPI table {table!r}; one of {', '.join(KPI_KEYS)}")


def _where(
    table: str, days: tuple[dt.date | None, dt.date | None], keys: dict[str, str | None]
) -> tuple[str, list[object]]:
    """The ``where`` clause of read_kpis and its parameters."""
    day = "period_start" if table in PERIOD_TABLES else "report_date"
    bounds = [(f"{day} {op} ?", bound) for op, bound in zip((">=", "<="), days, strict=True)]
    clauses: list[tuple[str, object]] = [(c, value) for c, value in bounds if value is not None]
    allowed = [k for k in _KEY_FILTERS if k in KPI_COLUMNS[table]]
    for column, value in keys.items():
        if value is None:
            continue
        if column not in allowed:
            choices = ", ".join(["date", "date_from", "date_to", *allowed])
            raise UserError(f"{table} has no {column} column; its filters: {choices}")
        if column == "period" and value not in PERIODS:
            raise UserError(f"unknown period {value!r}; one of {', '.join(PERIODS)}")
        clauses.append((f"{views.ident(column)} = ?", value))
    where = "where " + " and ".join(c for c, _ in clauses) if clauses else ""
    return where, [value for _, value in clauses]


def _day_range(
    date: DateLike | None, date_from: DateLike | None, date_to: DateLike | None
) -> tuple[dt.date | None, dt.date | None]:
    """(first, last) day, inclusive, None = open."""
    if date is not None and (date_from is not None or date_to is not None):
        raise UserError("give date, or date_from/date_to, not both")
    if date is not None:
        day = _day(date, "date")
        return day, day
    first, last = _day(date_from, "date_from"), _day(date_to, "date_to")
    if first and last and first > last:
        raise UserError(f"date_from {first} is after date_to {last}")
    return first, last


def _day(value: DateLike | None, name: str) -> dt.date | None:
    """A ``datetime.date`` (a datetime's date) or ISO ``YYYY-MM-DD`` text as a date."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"{name} must be a date like 2026-01-31, not {value!r}") from None
