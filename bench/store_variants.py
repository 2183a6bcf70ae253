"""The SQLite store as it loaded before issue 18, and the variants bench/store_load.py
measures against it: each option changes one thing (or two) of that frozen copy.

Only what ``load.load_dates`` calls is here: init, replace_date, replace_period, close; and
``finish`` for the variants that end a load with work of their own.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import sqlite3
from collections.abc import Mapping
from datetime import date
from typing import Any

import pyarrow as pa

from musicstream.stores import LOAD_COLUMNS, STORE_COLUMNS, STORE_KEYS, column_values

_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER"}
_INDEXES = {"genre_daily": ("genre", "report_date")}


def primary_key(table: str) -> tuple[str, ...]:
    return tuple(sorted(STORE_KEYS[table], key=lambda k: k != "report_date"))


class BenchStore:
    """The pre-issue-18 SQLite store, with one option switched on or off."""

    def __init__(
        self,
        settings: Any,
        *,
        sort: bool = False,
        sync_off: bool = False,
        one_tx: bool = False,
        rowid: bool = False,
        late: bool = False,
        apsw: bool = False,
        dry: bool = False,
        no_key: bool = False,
        multi: bool = False,
    ) -> None:
        self.multi = multi
        self.dry, self.no_key = dry, no_key
        self.sort, self.one_tx, self.rowid, self.late, self.apsw = sort, one_tx, rowid, late, apsw
        path = settings.store_path
        if apsw:
            import apsw as apsw_module

            self.con: Any = apsw_module.Connection(path)
            self.con.set_busy_timeout(60_000)
        else:
            self.con = sqlite3.connect(path, timeout=60)
            if one_tx:
                self.con.isolation_level = None  # begin and commit are ours
        self.con.execute("pragma page_size = 65536")
        self.con.execute("pragma journal_mode = wal")
        self.con.execute(f"pragma synchronous = {'off' if sync_off else 'normal'}")
        if sync_off:
            self.con.execute("pragma temp_store = memory")
        self.con.execute("pragma cache_size = -262144")
        self.empty_start = False

    def close(self) -> None:
        self.con.close()

    def init(self) -> None:
        tables = {t: (c, primary_key(t)) for t, c in STORE_COLUMNS.items()}
        tables["loads"] = (LOAD_COLUMNS, ("finished_at",))
        with self.con:
            self.con.execute(
                "create table if not exists loaded_dates (report_date text primary key)"
            )
            for table, (columns, keys) in tables.items():
                cols = ", ".join(f"{c} {_TYPES[t]}" for c, t in columns.items())
                if self.rowid:
                    self.con.execute(f"create table if not exists {table} ({cols})")
                    self.con.execute(
                        f"create unique index if not exists {table}_key on {table} "
                        f"({', '.join(keys)})"
                    )
                else:
                    self.con.execute(
                        f"create table if not exists {table} ({cols}, "
                        f"primary key ({', '.join(keys)})) without rowid"
                    )
                if table in _INDEXES:
                    self.con.execute(
                        f"create index if not exists {table}_by_{_INDEXES[table][0]} "
                        f"on {table} ({', '.join(_INDEXES[table])})"
                    )
        if (self.late or self.no_key) and not self._rows("track_daily"):
            self.empty_start = True
            with self.con:
                for table in STORE_COLUMNS:
                    self.con.execute(f"drop index if exists {table}_key")
        if self.one_tx:
            self.con.execute("begin")

    def _rows(self, table: str) -> int:
        return int(next(iter(self.con.execute(f"select count(*) from {table}")))[0])

    def finish(self) -> None:
        if self.one_tx:
            self.con.execute("commit")
        if self.empty_start and not self.no_key:
            with self.con:
                for table in STORE_COLUMNS:
                    keys = ", ".join(primary_key(table))
                    self.con.execute(f"create unique index {table}_key on {table} ({keys})")

    def replace_date(self, report_date: date, tables: Mapping[str, pa.Table]) -> None:
        day = report_date.isoformat()
        with self._transaction():
            self.con.execute("insert or ignore into loaded_dates values (?)", (day,))
            for table, data in tables.items():
                self._replace(table, {"report_date": day}, data)

    def replace_period(self, table: str, period: str, start: date, rows: pa.Table) -> None:
        with self._transaction():
            self._replace(table, {"period": period, "period_start": start.isoformat()}, rows)

    def _transaction(self) -> Any:
        return contextlib.nullcontext() if self.one_tx else self.con

    def _replace(self, table: str, part: dict[str, str], data: pa.Table) -> None:
        if not self.empty_start:
            match = " and ".join(f"{k} = ?" for k in part)
            self.con.execute(f"delete from {table} where {match}", tuple(part.values()))
        columns = [c for c in STORE_COLUMNS[table] if c not in part]
        if self.sort and data.num_rows > 1:
            data = data.sort_by([(k, "ascending") for k in primary_key(table) if k not in part])
        values = (column_values(data, c) for c in columns)
        rows = zip(*map(itertools.repeat, part.values()), *values, strict=False)
        names = ", ".join([*part, *columns])
        marks = ", ".join("?" * (len(part) + len(columns)))
        if self.dry:
            collections.deque(rows, maxlen=0)
        elif self.multi:
            self._insert_multi(table, [*part, *columns], rows, data.num_rows)
        else:
            self.con.executemany(f"insert into {table} ({names}) values ({marks})", rows)

    def _insert_multi(self, table: str, names: list[str], rows: Any, count: int) -> None:
        """200 rows to an INSERT statement (as the store does since issue 18)."""
        head = f"insert into {table} ({', '.join(names)}) values "
        one = f"({', '.join('?' * len(names))})"
        flat = itertools.chain.from_iterable(rows)
        full, rest = divmod(count, 200)
        if full:
            chunks = (tuple(itertools.islice(flat, 200 * len(names))) for _ in range(full))
            self.con.executemany(head + ", ".join([one] * 200), chunks)
        if rest:
            self.con.execute(head + ", ".join([one] * rest), tuple(flat))
