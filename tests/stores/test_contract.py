"""The store contract, run against every store (the ``store`` fixture: SQLite, DynamoDB on
moto): each SPEC §5 access pattern returns exactly its rows in key order, and loading a date
makes that date's rows exactly the new ones (per-date replacement)."""

from __future__ import annotations

from datetime import date

import pytest

from musicstream.datasets import KPI_TABLES
from musicstream.settings import Settings
from musicstream.stores import KpiQuery, Store, create_store

from .data import (
    D1,
    D2,
    D3,
    PATTERNS,
    THIRD,
    Row,
    all_tables,
    arrow,
    kpi_rows,
    read_date,
    track_ids,
)

KEY_ORDER = {  # SPEC §5 keys, in the order rows come back (§6: "rows in key order")
    "genre_daily": ("report_date", "genre"),
    "top_songs_daily": ("report_date", "genre", "rank"),
    "top_genres_daily": ("report_date", "rank"),
    "track_daily": ("track_id", "report_date"),
    "country_daily": ("report_date", "country"),
    "top_artists_daily": ("report_date", "rank"),
}
LOADS = {D1: 30, D2: 20, D3: 10}  # rows per table of each date (ranks past 9 sort as numbers)


def dated(day: date, rows: list[Row]) -> list[Row]:
    return [{"report_date": day.isoformat(), **r} for r in rows]


def in_key_order(table: str, rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: tuple(r[k] for k in KEY_ORDER[table]))


# -- access patterns ------------------------------------------------------------------------


@pytest.fixture
def loaded(store: Store) -> dict[date, dict[str, list[Row]]]:
    """Three dates loaded, each table's rows given in reverse key order; what each date got."""
    given = {}
    for salt, (day, n) in enumerate(LOADS.items()):
        given[day] = {t: kpi_rows(t, n, salt)[::-1] for t in KPI_TABLES}
        store.replace_date(day, {t: arrow(t, rows) for t, rows in given[day].items()})
    return given


def expected(q: KpiQuery, given: dict[date, dict[str, list[Row]]]) -> list[Row]:
    """The loaded rows ``q`` asks for: its date or range, its genre or track, in key order."""
    if q.date is not None:
        days = [q.date]
    else:
        days = [d for d in given if q.date_from and q.date_to and q.date_from <= d <= q.date_to]
    keys = {k: v for k, v in (("genre", q.genre), ("track_id", q.track)) if v is not None}
    rows = [r for d in days for r in dated(d, given[d][q.table])]
    return in_key_order(q.table, [r for r in rows if all(r[k] == v for k, v in keys.items())])


@pytest.mark.parametrize("q", PATTERNS.values(), ids=PATTERNS)
def test_each_access_pattern_returns_exactly_its_rows_in_key_order(
    store: Store, loaded: dict[date, dict[str, list[Row]]], q: KpiQuery
) -> None:
    want = expected(q, loaded)
    assert want, "the pattern has rows to find"
    assert store.query(q) == want


def test_a_date_or_key_without_rows_reads_empty(store: Store) -> None:
    store.replace_date(D1, all_tables(3))
    assert store.query(KpiQuery("genre_daily", date=D2)) == []
    assert store.query(KpiQuery("top_songs_daily", date=D1, genre="nope")) == []
    assert store.query(KpiQuery("track_daily", date_from=D1, date_to=D3, track="t999")) == []


def test_numbers_come_back_exactly_and_with_their_types(store: Store) -> None:
    big = 2**62 + 1  # beyond a double's 53 bits
    row = {
        "genre": "pop",
        "listen_count": big,
        "unique_listeners": 3,
        "total_listening_ms": big,
        "avg_listening_ms_per_stream": THIRD,
        "avg_listening_ms_per_user": 0.1 + 0.2,
    }
    store.replace_date(D1, {"genre_daily": arrow("genre_daily", [row])})
    [got] = store.query(KpiQuery("genre_daily", date=D1))
    want = {"report_date": "2026-01-01", **row}
    assert got == want
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}


# -- per-date replacement -------------------------------------------------------------------


def test_reloading_a_date_leaves_exactly_its_new_rows_and_other_dates_untouched(
    store: Store,
) -> None:
    store.replace_date(D1, all_tables(7))
    store.replace_date(D2, all_tables(7, salt=1))
    store.replace_date(D1, all_tables(6, salt=10, first=4))  # rows 4-6 change, 0-3 go, 7-9 come
    tracks = track_ids(10)  # every track either load of D1 had
    for table in KPI_TABLES:
        new = dated(D1, kpi_rows(table, 6, salt=10, first=4))
        assert read_date(store, table, D1, tracks) == in_key_order(table, new), table
        other = dated(D2, kpi_rows(table, 7, salt=1))
        assert read_date(store, table, D2, tracks) == in_key_order(table, other), table
    # a track only the old load of D1 had: its range now holds its D2 row only
    only_d2 = dated(D2, kpi_rows("track_daily", 1, salt=1))
    assert store.query(KpiQuery("track_daily", date_from=D1, date_to=D2, track="t000")) == only_d2


def test_an_empty_table_removes_the_dates_rows(store: Store) -> None:
    store.replace_date(D1, all_tables(5))
    store.replace_date(D2, all_tables(5, salt=1))
    store.replace_date(D1, {t: arrow(t, []) for t in KPI_TABLES})
    for table in KPI_TABLES:
        assert read_date(store, table, D1, track_ids(5)) == [], table
        other = dated(D2, kpi_rows(table, 5, salt=1))
        assert read_date(store, table, D2, track_ids(5)) == in_key_order(table, other), table


def test_loading_the_same_date_again_is_idempotent(store: Store) -> None:
    for _ in range(2):
        store.replace_date(D1, all_tables(5))
    for table in KPI_TABLES:
        want = in_key_order(table, dated(D1, kpi_rows(table, 5)))
        assert read_date(store, table, D1, track_ids(5)) == want, table


def test_init_again_on_a_loaded_store_keeps_its_rows(
    store: Store, store_settings: Settings
) -> None:
    store.replace_date(D1, all_tables(4))
    again = create_store(store_settings)
    try:
        again.init()
        for table in KPI_TABLES:
            want = in_key_order(table, dated(D1, kpi_rows(table, 4)))
            assert read_date(again, table, D1, track_ids(4)) == want, table
    finally:
        again.close()
