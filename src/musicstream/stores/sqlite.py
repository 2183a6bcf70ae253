"""SQLite serving store (WAL): one table per KPI table, every SPEC §5 access pattern a key
lookup or a key range.

Every table is clustered by date first (``WITHOUT ROWID``, primary key starting with
report_date), so loading a date fills one key range and per-date replacement deletes one
key range. Measured on 1.6M track_daily rows: 3-4x less CPU than clustering by track with a
secondary date index. One track over a date range is then a primary-key seek per loaded date
(``loaded_dates`` lists them), not a scan.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from musicstream import layout
from musicstream.datasets import KPI_COLUMNS, KPI_KEYS
from musicstream.errors import UserError
from musicstream.lake import open_lake
from musicstream.stores import KpiQuery, Row

if TYPE_CHECKING:
    import pyarrow as pa

    from musicstream.settings import Settings

_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL"}
# One genre over a date range: a secondary index, genre_daily is small.
_INDEXES = {"genre_daily": ("genre", "report_date")}


def default_path(settings: Settings) -> str:
    if settings.store_path:
        return settings.store_path
    folder = _lake_folder(settings)
    if folder is None:
        return "musicstream-kpis.sqlite"
    return str(Path(folder) / layout.SQLITE_STORE)


def _lake_folder(settings: Settings) -> str | None:
    """The local lake the store file lives in by default; None when it lives elsewhere."""
    if settings.store_path or ("://" in settings.lake and not settings.lake.startswith("file://")):
        return None
    return settings.lake.removeprefix("file://")


def _primary_key(table: str) -> tuple[str, ...]:
    """SPEC §5 key columns, report_date first."""
    rest = tuple(k for k in KPI_KEYS[table] if k != "report_date")
    return ("report_date", *rest)


class SQLiteStore:
    """KPIs in one SQLite file; each date is replaced in a single transaction."""

    def __init__(self, settings: Settings, read_only: bool = False) -> None:
        self.path = default_path(settings)
        if _lake_folder(settings) is not None:
            open_lake(settings.lake).require()  # opening the store must not create a lake
        self.con = _connect_read_only(self.path) if read_only else _connect(self.path)
        self.con.execute("pragma synchronous = normal")
        self.con.execute("pragma cache_size = -262144")  # 256 MiB of page cache

    @classmethod
    def open_read_only(cls, settings: Settings) -> SQLiteStore:
        """For commands that only read (``kpis``): a missing store is an error, not created."""
        return cls(settings, read_only=True)

    def close(self) -> None:
        self.con.close()

    def init(self) -> None:
        with self.con:
            self.con.execute(
                "create table if not exists loaded_dates (report_date text primary key)"
            )
            for table, columns in KPI_COLUMNS.items():
                cols = ", ".join(f"{c} {_TYPES[t]}" for c, t in columns.items())
                keys = ", ".join(_primary_key(table))
                self.con.execute(
                    f"create table if not exists {table} ({cols}, primary key ({keys})) "
                    "without rowid"
                )
                if table in _INDEXES:
                    self.con.execute(
                        f"create index if not exists {table}_by_{_INDEXES[table][0]} "
                        f"on {table} ({', '.join(_INDEXES[table])})"
                    )

    def replace_date(self, report_date: date, tables: Mapping[str, pa.Table]) -> None:
        day = report_date.isoformat()
        with self.con:  # one transaction for the whole date
            self.con.execute("insert or ignore into loaded_dates values (?)", (day,))
            for table, data in tables.items():
                columns = [c for c in KPI_COLUMNS[table] if c != "report_date"]
                # In the lake's order: sorting by key first (Table.sort_by) made the B-tree
                # inserts ~20% cheaper at 1.6M rows but imports pyarrow.compute (~1 s per
                # process), more than it saves on a one-day batch.
                values = (data.column(c).to_pylist() for c in columns)
                rows = zip(itertools.repeat(day), *values)
                self.con.execute(f"delete from {table} where report_date = ?", (day,))
                marks = ", ".join("?" * (len(columns) + 1))
                self.con.executemany(
                    f"insert into {table} (report_date, {', '.join(columns)}) values ({marks})",
                    rows,
                )

    def query(self, q: KpiQuery) -> list[Row]:
        q.check()
        cur = self.con.execute(*statement(q))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _connect(path: str) -> sqlite3.Connection:
    """Open the store for loading, creating its file (and folder) when there is none."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(path, timeout=60)
        # Before the first table (a no-op on an existing file): 64 KiB pages made
        # loading 1.6M track_daily rows ~10% cheaper than the default 4 KiB.
        con.execute("pragma page_size = 65536")
        con.execute("pragma journal_mode = wal")
    except (OSError, sqlite3.Error) as exc:
        raise UserError(f"cannot open SQLite store {path}: {exc}") from None
    return con


def _connect_read_only(path: str) -> sqlite3.Connection:
    """Open an existing, initialised store read-only (``mode=ro``): reading creates nothing."""
    if not os.path.isfile(path):
        raise UserError(f"no KPIs loaded yet: {path} does not exist; run `musicstream run` first")
    try:
        con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        ready = con.execute("select 1 from sqlite_master where name = 'loaded_dates'").fetchone()
    except sqlite3.Error as exc:
        raise UserError(f"cannot open SQLite store {path}: {exc}") from None
    if ready is None:
        con.close()
        raise UserError(f"no KPIs loaded yet in {path}: run `musicstream run` first")
    return con


def statement(q: KpiQuery) -> tuple[str, list[str]]:
    """The SELECT serving one access pattern, and its arguments."""
    where, args = _where(q)
    source = q.table
    if q.track is not None:  # a primary-key seek per loaded date in the range
        source = f"loaded_dates join {q.table} using (report_date)"
    order = ", ".join(KPI_KEYS[q.table])
    return f"select {q.table}.* from {source} where {where} order by {order}", args


def _where(q: KpiQuery) -> tuple[str, list[str]]:
    clauses, args = [], []
    if q.date is not None:
        clauses.append("report_date = ?")
        args.append(q.date.isoformat())
    else:
        clauses.append("report_date between ? and ?")
        args += [(q.date_from or date.min).isoformat(), (q.date_to or date.max).isoformat()]
    if q.genre is not None:
        clauses.append("genre = ?")
        args.append(q.genre)
    if q.track is not None:
        clauses.append("track_id = ?")
        args.append(q.track)
    return " and ".join(clauses), args
