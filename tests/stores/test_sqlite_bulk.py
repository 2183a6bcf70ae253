"""SQLite store only: the bulk load path (rows sorted by key, many rows to an INSERT) keeps
per-date replacement exact with more rows than one statement holds, in any input order, and
under a driver that allows few parameters a statement."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import date

import pytest

from musicstream.datasets import KPI_TABLES
from musicstream.settings import Settings
from musicstream.stores.sqlite import SQLiteStore

from .data import D1, D2, Row, arrow, kpi_rows

MANY = 437  # two full statements of 200 rows and a rest


@pytest.fixture
def sqlite_store(sqlite_settings: Settings) -> Iterator[SQLiteStore]:
    s = SQLiteStore(sqlite_settings)
    s.init()
    yield s
    s.close()


def shuffled(table: str, n: int, salt: int = 0, first: int = 0) -> list[Row]:
    rows = kpi_rows(table, n, salt, first)
    random.Random(salt).shuffle(rows)
    return rows


def load(store: SQLiteStore, day: date, n: int, salt: int = 0, first: int = 0) -> None:
    store.replace_date(day, {t: arrow(t, shuffled(t, n, salt, first)) for t in KPI_TABLES})


def stored(store: SQLiteStore, table: str, day: date) -> set[tuple[object, ...]]:
    return {tuple(sorted(r.items())) for r in store.date_rows(table, day)}


def want(table: str, day: date, n: int, salt: int = 0, first: int = 0) -> set[tuple[object, ...]]:
    rows = kpi_rows(table, n, salt, first)
    return {tuple(sorted({"report_date": day.isoformat(), **r}.items())) for r in rows}


def test_a_first_load_and_a_reload_leave_exactly_the_new_rows(sqlite_store: SQLiteStore) -> None:
    load(sqlite_store, D1, MANY)
    load(sqlite_store, D2, MANY, salt=1)
    load(sqlite_store, D1, 250, salt=2, first=300)  # rows 0-299 go, 300-436 change, 437-549 come
    for table in KPI_TABLES:
        assert stored(sqlite_store, table, D1) == want(table, D1, 250, 2, 300), table
        assert stored(sqlite_store, table, D2) == want(table, D2, MANY, 1), table


def test_rows_are_stored_in_key_order_whatever_order_they_come_in(
    sqlite_store: SQLiteStore,
) -> None:
    load(sqlite_store, D1, MANY, salt=3)
    ids = [r[0] for r in sqlite_store.con.execute("select track_id from track_daily")]
    assert ids == sorted(ids) and len(ids) == MANY


def test_a_driver_allowing_few_parameters_gets_smaller_statements(
    sqlite_store: SQLiteStore,
) -> None:
    sqlite_store.con.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)  # 2 rows of track_daily
    load(sqlite_store, D1, 45)
    for table in KPI_TABLES:
        assert stored(sqlite_store, table, D1) == want(table, D1, 45), table
