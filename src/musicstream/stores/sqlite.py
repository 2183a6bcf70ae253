"""SQLite serving store (WAL): one table per KPI table, keyed as SPEC §5 lays out."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS
from musicstream.errors import UserError
from musicstream.stores import KpiQuery, Row

if TYPE_CHECKING:
    import pyarrow as pa

    from musicstream.settings import Settings

_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL"}
# Secondary indexes for the range patterns and for per-date replacement.
_INDEXES = {
    "genre_daily": ("genre", "report_date"),
    "track_daily": ("report_date", "track_id"),
}


def default_path(settings: Settings) -> str:
    if settings.store_path:
        return settings.store_path
    if "://" in settings.lake and not settings.lake.startswith("file://"):
        return "musicstream-kpis.sqlite"
    return str(Path(settings.lake.removeprefix("file://")) / "_state" / "kpis.sqlite")


class SQLiteStore:
    """KPIs in one SQLite file; each date is replaced in a single transaction."""

    def __init__(self, settings: Settings) -> None:
        self.path = default_path(settings)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = sqlite3.connect(self.path, timeout=60)
        except sqlite3.Error as exc:
            raise UserError(f"cannot open SQLite store {self.path}: {exc}") from None
        self.con.execute("pragma journal_mode = wal")
        self.con.execute("pragma synchronous = normal")

    def close(self) -> None:
        self.con.close()

    def init(self) -> None:
        with self.con:
            for table, columns in KPI_COLUMNS.items():
                cols = ", ".join(f"{c} {_TYPES[t]}" for c, t in columns.items())
                keys = ", ".join(KPI_KEYS[table])
                self.con.execute(
                    f"create table if not exists {table} ({cols}, primary key ({keys}))"
                )
                if table in _INDEXES:
                    self.con.execute(
                        f"create index if not exists {table}_by_{_INDEXES[table][0]} "
                        f"on {table} ({', '.join(_INDEXES[table])})"
                    )

    def replace_date(self, report_date: date, tables: Mapping[str, pa.Table]) -> None:
        day = report_date.isoformat()
        with self.con:  # one transaction for the whole date
            for table, data in tables.items():
                columns = [c for c in KPI_COLUMNS[table] if c != "report_date"]
                self.con.execute(f"delete from {table} where report_date = ?", (day,))
                values = [data.column(c).to_pylist() for c in columns]
                marks = ", ".join("?" * (len(columns) + 1))
                self.con.executemany(
                    f"insert into {table} (report_date, {', '.join(columns)}) values ({marks})",
                    zip([day] * data.num_rows, *values, strict=True),
                )

    def query(self, q: KpiQuery) -> list[Row]:
        q.check()
        where, args = _where(q)
        order = ", ".join(KPI_KEYS[q.table])
        cur = self.con.execute(f"select * from {q.table} where {where} order by {order}", args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


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
