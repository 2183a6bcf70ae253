"""What `musicstream verify` reads of every store: a whole date's rows of each KPI table, a
whole period's, the dates its loads spanned and the tables it lacks, by key only (DynamoDB:
Query and BatchGetItem, never Scan)."""

from __future__ import annotations

import sqlite3
from datetime import date

import pyarrow as pa
import pytest

from aws_helpers import recording
from musicstream.datasets import KPI_COLUMNS, KPI_TABLES
from musicstream.settings import Settings
from musicstream.stores import STORE_COLUMNS, Load, Store, arrow_schema, create_store

from .data import D1, D2, PERIOD_LOADS, THIRD, Row, all_tables, arrow, kpi_rows, load_periods

MANY = 130  # past one BatchGetItem (100 keys) for track_daily and user_daily
BY_INDEX = ("track_daily", "user_daily")  # DynamoDB finds their dates through an index


def dated(table: str, day: date, rows: list[Row]) -> list[Row]:
    return [{"report_date": day.isoformat(), **r} for r in rows]


def ordered(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=repr)


def test_date_rows_are_exactly_the_rows_the_date_last_got(store: Store) -> None:
    store.replace_date(D1, all_tables(12))
    store.replace_date(D2, all_tables(12, salt=1))
    store.replace_date(D2, all_tables(4, salt=2))  # fewer rows: the old ones must be gone
    for table in KPI_TABLES:
        assert ordered(store.date_rows(table, D1)) == ordered(dated(table, D1, kpi_rows(table, 12)))
        assert ordered(store.date_rows(table, D2)) == ordered(
            dated(table, D2, kpi_rows(table, 4, salt=2))
        )
        assert store.date_rows(table, date(2026, 2, 1)) == []


def test_period_rows_are_one_period_of_one_kind(store: Store) -> None:
    load_periods(store)
    for (period, start), rows in PERIOD_LOADS.items():
        keys = {"period": period, "period_start": start.isoformat()}
        assert store.period_rows("active_listeners", period, start) == [{**keys, **r} for r in rows]
    assert store.period_rows("active_listeners", "week", date(2026, 2, 2)) == []


def test_date_table_is_the_date_rows_as_arrow(store: Store) -> None:
    """Every KPI table: what date_rows gives but report_date, in the store's Arrow types;
    a date without rows is an empty table of the same columns."""
    store.replace_date(D1, all_tables(12))
    for table in KPI_TABLES:
        data = store.date_table(table, D1)
        assert data.schema == arrow_schema(table, without=("report_date",))
        rows = store.date_rows(table, D1)
        for row in rows:
            del row["report_date"]
        assert ordered(data.to_pylist()) == ordered(rows)
        empty = store.date_table(table, D2)
        assert (empty.num_rows, empty.schema) == (0, data.schema)


def test_date_table_keeps_each_type_and_null(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text, ints past 32 bits, a float that needs all 17 digits, bools (no KPI table has one
    yet: track_daily gets one here; SQLite keeps them as 0/1) and a null of each come back
    as they were loaded, in their types."""
    columns = {**KPI_COLUMNS["track_daily"], "explicit": "bool"}
    monkeypatch.setitem(STORE_COLUMNS, "track_daily", columns)
    schema = arrow_schema("track_daily", without=("report_date",))
    values = {"track_name": "", "artists": None, "genre": "pop", "listen_count": 2**40}
    values |= {"unique_listeners": None, "total_listening_ms": -1}
    rows = [
        {"track_id": "t1", **values, "avg_listening_ms_per_user": THIRD, "explicit": True},
        {"track_id": "t2", **values, "avg_listening_ms_per_user": None, "explicit": False},
        {"track_id": "t3", **values, "avg_listening_ms_per_user": 0.0, "explicit": None},
    ]
    store = create_store(store_settings)
    try:
        store.init()
        store.replace_date(D1, {"track_daily": pa.Table.from_pylist(rows, schema=schema)})
        data = store.date_table("track_daily", D1)
        types = [str(f.type) for f in data.schema]
        assert types == ["string"] * 4 + ["int64"] * 3 + ["double", "bool"]
        assert data.sort_by("track_id").to_pylist() == rows
        empty = store.date_table("track_daily", D2)
        assert (empty.num_rows, empty.schema) == (0, schema)
    finally:
        store.close()


def test_period_table_is_one_period_as_arrow(store: Store) -> None:
    load_periods(store)
    schema = arrow_schema("active_listeners", without=("period", "period_start"))
    for (period, start), rows in PERIOD_LOADS.items():
        data = store.period_table("active_listeners", period, start)
        assert (data.schema, data.to_pylist()) == (schema, rows)
    empty = store.period_table("active_listeners", "week", date(2026, 2, 2))
    assert (empty.num_rows, empty.schema) == (0, schema)


@pytest.mark.parametrize(
    ("table", "change"),
    [
        ("genre_daily", "listen_count = 9.5"),  # pyarrow would read 9
        ("track_daily", "track_name = cast('Song' as blob)"),  # pyarrow would read 'Song'
    ],
)
def test_a_value_not_of_its_column_type_raises_rather_than_converts(
    sqlite_settings: Settings, table: str, change: str
) -> None:
    """SQLite keeps what it is given (a row written by hand): a REAL in an int column, a
    BLOB in a text one. Arrow would convert it quietly, so the table would not hold what
    the rows hold; date_table raises instead, and verify compares those rows one by one."""
    store = create_store(sqlite_settings)
    try:
        store.init()
        store.replace_date(D1, all_tables(2))
        con = sqlite3.connect(sqlite_settings.store_path or "")
        with con:
            con.execute(f"update {table} set {change} where report_date = ?", (D1.isoformat(),))
        con.close()
        with pytest.raises(pa.ArrowException):
            store.date_table(table, D1)
    finally:
        store.close()


def test_loaded_span_covers_every_recorded_load(store: Store) -> None:
    assert store.loaded_span() is None
    store.record_load(Load.now("b1", [date(2026, 1, 3), date(2026, 1, 5)], store.last_load()))
    store.record_load(Load.now("b2", [date(2025, 12, 30)], store.last_load()))  # late data
    store.record_load(Load.now("backfill", [], store.last_load()))  # no dates
    assert store.loaded_span() == (date(2025, 12, 30), date(2026, 1, 5))


def test_missing_tables_creates_none(store_settings: Settings) -> None:
    fresh = create_store(store_settings)  # SQLite makes the file, DynamoDB nothing
    try:
        assert fresh.missing_tables() == list(KPI_COLUMNS)
        assert fresh.missing_tables() == list(KPI_COLUMNS)  # still none
        fresh.init()
        assert fresh.missing_tables() == []
    finally:
        fresh.close()


@pytest.mark.aws
def test_dynamodb_reads_a_date_by_key_only(
    dynamodb_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    kv = create_store(dynamodb_settings)
    kv.init()
    kv.replace_date(
        D1, {t: arrow(t, kpi_rows(t, MANY if t in BY_INDEX else 3)) for t in KPI_TABLES}
    )
    with recording(monkeypatch) as calls:
        reader = create_store(dynamodb_settings, read_only=True)
        for table in KPI_TABLES:
            assert len(reader.date_rows(table, D1)) == (MANY if table in BY_INDEX else 3)
        reader.period_rows("active_listeners", "day", D1)
        reader.loaded_span()
    assert set(calls.names()) == {"Query", "BatchGetItem"}
    gets = [p for name, p in calls.ops if name == "BatchGetItem"]
    assert len(gets) == 4  # track_daily and user_daily: 100 keys, then 30
    assert all(k["ConsistentRead"] for p in gets for k in p["RequestItems"].values())
    kv.close()
    reader.close()
