"""SQLite serving store (WAL): one table per KPI table and per served dimension (songs,
users), every SPEC §5 access pattern a key lookup or a key range.

Every date-keyed table is clustered by date first (``WITHOUT ROWID``, primary key starting
with report_date), so loading a date fills one key range and per-date replacement deletes one
key range. One track (``track_daily``) or one user (``user_daily``) over a date range is then a
primary-key seek per loaded date (``loaded_dates`` drives the join), not a scan. Measured:
on 1.6M track_daily rows, date-first took 3-4x less CPU to load than clustering by track
with a secondary date index; on user_daily (50k users a day, 120 days) 0.22 s vs 1.47 s a
date to load and half the file size, for one user's 120 days in ~2-4 ms instead of 0.1 ms.
``active_listeners`` is keyed (period, period_start); songs and users by their id.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicstream import layout
from musicstream.datasets import DIMENSION_COLUMNS, KPI_COLUMNS, PERIOD_TABLES
from musicstream.errors import StoreNotReady, UserError
from musicstream.lake import open_lake
from musicstream.schema import empty_table
from musicstream.stores import (
    LOAD_COLUMNS,
    STORE_COLUMNS,
    STORE_KEYS,
    KpiQuery,
    Load,
    Row,
    arrow_schema,
    column_values,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from musicstream.settings import Settings

_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER"}  # bool: 0/1
# One genre over a date range: a secondary index, genre_daily is small.
_INDEXES = {"genre_daily": ("genre", "report_date")}
# One key over a date range: a primary-key seek per loaded date (see the module docstring).
_PER_KEY = ("track_daily", "user_daily")
_CHUNK = 10_000  # dimension rows per executemany
_Row = tuple[object, ...]
_ROWS_PER_INSERT = 200  # rows per KPI INSERT statement (1,000 measured no better)
# A value the reader would convert quietly, by the column type it is read into (a REAL in an
# int or bool column truncated, a BLOB taken as text), and what it is read as instead: one
# that makes the column fail its cast to the store type (text in an int column, bytes that
# are no UTF-8 in a text one; see Store.date_table). Only a row written by hand has one.
_FOREIGN = {"int": ("real", "''"), "bool": ("real", "''"), "str": ("blob", "x'ff'")}


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
    """SPEC §5 key columns, report_date first where the table has one."""
    keys = STORE_KEYS[table]
    return tuple(sorted(keys, key=lambda k: k != "report_date"))


class SQLiteStore:
    """KPIs in one SQLite file; each date is replaced in a single transaction."""

    settle_s = 0.0  # a committed transaction is what every later read sees

    def __init__(self, settings: Settings, read_only: bool = False) -> None:
        self.path = default_path(settings)
        if _lake_folder(settings) is not None:
            open_lake(settings.lake).require()  # opening the store must not create a lake
        self.con = _connect_read_only(self.path) if read_only else _connect(self.path)
        self._arrow: Any = None  # an ADBC connection, opened by the first _select_table
        self.con.execute("pragma synchronous = normal")
        if read_only:
            # Readers (`kpis`, each thread of the read API): the file mapped once for all of
            # them through the OS page cache, and a small private cache each. 256 MiB each
            # grew a 2-worker API under load to 4-5 GB of RSS per worker.
            self.con.execute("pragma cache_size = -8192")  # 8 MiB
            self.con.execute("pragma mmap_size = 4294967296")  # up to 4 GiB of the file
        else:
            self.con.execute("pragma cache_size = -262144")  # 256 MiB of page cache

    @classmethod
    def open_read_only(cls, settings: Settings) -> SQLiteStore:
        """For commands that only read (``kpis``): a missing store is an error, not created."""
        return cls(settings, read_only=True)

    def close(self) -> None:
        self.con.close()
        if self._arrow is not None:
            self._arrow.close()

    @staticmethod
    def describe(settings: Settings) -> str:
        """The store as a person finds it, for messages."""
        return f"SQLite store {default_path(settings)}"

    def init(self) -> None:
        tables = {t: (c, _primary_key(t)) for t, c in STORE_COLUMNS.items()}
        tables["loads"] = (LOAD_COLUMNS, ("finished_at",))
        with self.con:
            self.con.execute(
                "create table if not exists loaded_dates (report_date text primary key)"
            )
            for table, (columns, keys) in tables.items():
                cols = ", ".join(f"{c} {_TYPES[t]}" for c, t in columns.items())
                self.con.execute(
                    f"create table if not exists {table} ({cols}, "
                    f"primary key ({', '.join(keys)})) without rowid"
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
                self._replace(table, {"report_date": day}, data)

    def replace_period(self, table: str, period: str, start: date, rows: pa.Table) -> None:
        if table not in PERIOD_TABLES:
            raise ValueError(f"{table} is not a period table")
        with self.con:  # one transaction for the period
            self._replace(table, {"period": period, "period_start": start.isoformat()}, rows)

    def _replace(self, table: str, part: dict[str, str], data: pa.Table) -> None:
        """Delete the rows of one partition (its key range), insert ``data`` under it."""
        match = " and ".join(f"{k} = ?" for k in part)
        self.con.execute(f"delete from {table} where {match}", tuple(part.values()))
        columns = [c for c in STORE_COLUMNS[table] if c not in part]
        keys = [k for k in _primary_key(table) if k not in part]
        if keys and data.num_rows > 1:
            # In key order each row lands next to the one before it in the B-tree (see
            # _insert). sort_by imports pyarrow.compute: ~0.1 s once per process.
            data = data.sort_by([(k, "ascending") for k in keys])
        values = (column_values(data, c) for c in columns)
        rows = zip(*map(itertools.repeat, part.values()), *values, strict=False)  # endless keys
        self._insert(table, [*part, *columns], rows, data.num_rows)

    def _insert(
        self, table: str, names: list[str], rows: Iterator[_Row], count: int, verb: str = "insert"
    ) -> None:
        """Insert ``count`` rows, many to a statement (``values (…), (…), …``). Measured at
        3.4M rows (bench/store_load.py): with rows in key order, half the CPU of a statement
        a row; in the lake's order, more (one run: +60%). Key order is what makes it pay."""
        limit = self.con.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per = max(1, min(_ROWS_PER_INSERT, limit // len(names)))
        head = f"{verb} into {table} ({', '.join(names)}) values "
        one = f"({', '.join('?' * len(names))})"
        flat = itertools.chain.from_iterable(rows)
        full, rest = divmod(count, per)
        if full:
            width = per * len(names)
            chunks = (tuple(itertools.islice(flat, width)) for _ in range(full))
            self.con.executemany(head + ", ".join([one] * per), chunks)
        if rest:
            self.con.execute(head + ", ".join([one] * rest), tuple(flat))

    def upsert_dimension(self, dimension: str, rows: pa.Table) -> None:
        """``insert or replace`` each row (a later row replaces the whole old one), in key
        order and many to a statement, as :meth:`_replace` inserts: the first load of 1.1M
        songs and users took 4.7 s a statement a row. The sort is stable: of two rows with
        one key, the later still lands last."""
        columns = list(DIMENSION_COLUMNS[dimension])
        if rows.num_rows > 1:
            rows = rows.sort_by([(k, "ascending") for k in _primary_key(dimension)])
        with self.con:  # one transaction for the whole upsert
            for first in range(0, rows.num_rows, _CHUNK):  # Python values a chunk at a time
                part = rows.slice(first, _CHUNK)
                values = (column_values(part, c) for c in columns)
                rows_in = zip(*values, strict=True)
                self._insert(dimension, columns, rows_in, part.num_rows, "insert or replace")

    def record_load(self, load: Load) -> None:
        row = load.row()
        marks = ", ".join("?" * len(row))
        with self.con:
            self.con.execute(
                f"insert into loads ({', '.join(row)}) values ({marks})", (*row.values(),)
            )

    def last_load(self) -> Load | None:
        try:
            found = self.con.execute(
                f"select {', '.join(LOAD_COLUMNS)} from loads order by finished_at desc limit 1"
            ).fetchall()
        except sqlite3.OperationalError as exc:  # a store made before loads were recorded
            if "no such table" not in str(exc):
                raise
            return None
        return Load(*found[0]) if found else None

    def query(self, q: KpiQuery) -> list[Row]:
        q.check()
        return self._select(q.table, *statement(q))

    def date_rows(self, table: str, report_date: date) -> list[Row]:
        """One key range: every date-keyed table's primary key starts with report_date."""
        if "report_date" not in STORE_KEYS.get(table, ()):
            raise ValueError(f"{table} is not keyed by report_date")
        sql = f"select * from {table} where report_date = ?"
        return self._select(table, sql, [report_date.isoformat()])

    def period_rows(self, table: str, period: str, start: date) -> list[Row]:
        if table not in PERIOD_TABLES:
            raise ValueError(f"{table} is not a period table")
        sql = f"select * from {table} where period = ? and period_start = ?"
        return self._select(table, sql, [period, start.isoformat()])

    def date_table(self, table: str, report_date: date) -> pa.Table:
        if "report_date" not in STORE_KEYS.get(table, ()):
            raise ValueError(f"{table} is not keyed by report_date")
        return self._select_table(table, {"report_date": report_date.isoformat()})

    def period_table(self, table: str, period: str, start: date) -> pa.Table:
        if table not in PERIOD_TABLES:
            raise ValueError(f"{table} is not a period table")
        return self._select_table(table, {"period": period, "period_start": start.isoformat()})

    def loaded_span(self) -> tuple[date, date] | None:
        try:
            first, last = self.con.execute(
                "select min(date_from), max(date_to) from loads"
            ).fetchone()
        except sqlite3.OperationalError as exc:  # a store made before loads were recorded
            if "no such table" not in str(exc):
                raise
            return None
        return None if first is None else (date.fromisoformat(first), date.fromisoformat(last))

    def missing_tables(self) -> list[str]:
        found = {name for (name,) in self.con.execute("select name from sqlite_master")}
        return [t for t in KPI_COLUMNS if t not in found]

    def _select(self, table: str, sql: str, args: list[str]) -> list[Row]:
        """Rows of one SELECT on ``table``, bools as bools (stored as 0/1)."""
        cur = self._execute(table, sql, args)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        for name in (n for n in names if STORE_COLUMNS[table][n] == "bool"):
            for row in rows:
                row[name] = None if row[name] is None else bool(row[name])
        return rows

    def _select_table(self, table: str, part: dict[str, str]) -> pa.Table:
        """The rows of one partition (column → value) as an Arrow table of arrow_schema
        without the partition's columns, read by the ADBC SQLite driver straight into Arrow:
        measured on 3.3M rows, 4.8 s of CPU against 10 s for the stdlib driver's fetch
        alone (a Python object per value) and 3.4 s more to convert those to Arrow.

        The driver links a SQLite of its own. Two SQLite libraries in one process do not see
        each other's file locks: never read here from another thread while ``self.con`` (or
        any stdlib connection to the file) may write. Tried for verify-while-loading: the
        reader, believing itself alone, reset the WAL index under the writer (SIGBUS)."""
        schema, kinds = arrow_schema(table, without=tuple(part)), STORE_COLUMNS[table]
        columns = ", ".join(_guarded(name, kinds[name]) for name in schema.names)
        sql = f"select {columns} from {table} where " + " and ".join(f"{k} = ?" for k in part)
        self._execute(table, f"{sql} limit 0", list(part.values()))  # no table: StoreNotReady
        if self._arrow is None:
            import adbc_driver_sqlite.dbapi as adbc

            uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
            self._arrow = adbc.connect(uri, autocommit=True)  # no snapshot held between reads
        with self._arrow.cursor() as cur:
            cur.execute(sql, tuple(part.values()))
            found = cur.fetch_arrow_table()
        if found.num_rows == 0:
            return empty_table(schema)
        return found.cast(schema)  # bools: stored as 0/1

    def _execute(self, table: str, sql: str, args: list[str]) -> sqlite3.Cursor:
        try:
            return self.con.execute(sql, args)
        except sqlite3.OperationalError as exc:  # a store made before the table existed
            if "no such table" not in str(exc):
                raise
            raise StoreNotReady(f"no {table} in {self.path} yet: run `musicstream run`") from None


def _guarded(column: str, kind: str) -> str:
    """``column`` for a SELECT into Arrow: a value of a storage class pyarrow would convert
    quietly read as one it refuses (:data:`_FOREIGN`)."""
    if kind not in _FOREIGN:
        return column
    foreign, instead = _FOREIGN[kind]
    return f"case when typeof({column}) = '{foreign}' then {instead} else {column} end as {column}"


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
        raise StoreNotReady(
            f"no KPIs loaded yet: {path} does not exist; run `musicstream run` first"
        )
    try:
        con = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        ready = con.execute("select 1 from sqlite_master where name = 'loaded_dates'").fetchone()
    except sqlite3.Error as exc:
        raise UserError(f"cannot open SQLite store {path}: {exc}") from None
    if ready is None:
        con.close()
        raise StoreNotReady(f"no KPIs loaded yet in {path}: run `musicstream run` first")
    return con


def statement(q: KpiQuery) -> tuple[str, list[str]]:
    """The SELECT serving one access pattern, and its arguments."""
    where, args = _where(q)
    source = q.table
    if q.table in _PER_KEY and q.date is None:
        # A primary-key seek per loaded date in the range. CROSS JOIN fixes the join order:
        # left to itself the planner walked the table's whole date range instead.
        source = f"loaded_dates cross join {q.table} using (report_date)"
    order = ", ".join(STORE_KEYS[q.table])
    return f"select {q.table}.* from {source} where {where} order by {order}", args


def _where(q: KpiQuery) -> tuple[str, list[str]]:
    clauses, args = [], []
    day = "period_start" if q.table in PERIOD_TABLES else "report_date"
    if q.date is not None:
        clauses.append(f"{day} = ?")
        args.append(q.date.isoformat())
    elif q.ranged:
        clauses.append(f"{day} between ? and ?")
        args += [(q.date_from or date.min).isoformat(), (q.date_to or date.max).isoformat()]
    for column, value in q.filters().items():
        clauses.append(f"{column} = ?")
        args.append(value)
    return " and ".join(clauses), args
