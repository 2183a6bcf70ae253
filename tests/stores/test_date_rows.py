"""What `musicstream verify` reads of every store: a whole date's rows of each KPI table, a
whole period's, the dates its loads spanned and the tables it lacks, by key only (DynamoDB:
Query and BatchGetItem, never Scan)."""

from __future__ import annotations

from datetime import date

import pytest

from aws_helpers import recording
from musicstream.datasets import KPI_COLUMNS, KPI_TABLES
from musicstream.settings import Settings
from musicstream.stores import Load, Store, create_store

from .data import D1, D2, PERIOD_LOADS, Row, all_tables, arrow, kpi_rows, load_periods

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
