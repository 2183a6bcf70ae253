"""The peers' serving store: one SQLite table per KPI table, keyed like SPEC §5.

A put of an existing key replaces the row, as a DynamoDB ``put_item`` does: a peer whose
ranking gives two rows the same rank keeps only the last one written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS

_TYPES = {"str": "TEXT", "int": "INTEGER", "float": "REAL"}


def open_store(path: Path) -> sqlite3.Connection:
    """A fresh SQLite file (WAL) with every KPI table created empty."""
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("pragma journal_mode = wal")
    con.execute("pragma synchronous = normal")
    for table, columns in KPI_COLUMNS.items():
        cols = ", ".join(f"{name} {_TYPES[kind]}" for name, kind in columns.items())
        con.execute(f"create table {table} ({cols}, primary key ({', '.join(KPI_KEYS[table])}))")
    con.commit()
    return con


def put_sql(table: str) -> str:
    """``insert or replace`` of one row in ``KPI_COLUMNS`` order."""
    cols = list(KPI_COLUMNS[table])
    marks = ", ".join("?" * len(cols))
    return f"insert or replace into {table} ({', '.join(cols)}) values ({marks})"


def put_rows(con: sqlite3.Connection, table: str, rows: Iterable[Sequence[Any]]) -> int:
    """Write ``rows`` one at a time, each its own transaction (a put per item). Returns count."""
    sql, count = put_sql(table), 0
    for row in rows:
        with con:
            con.execute(sql, tuple(row))
        count += 1
    return count
