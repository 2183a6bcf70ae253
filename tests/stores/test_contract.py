"""The store contract, run against every store (the ``store`` fixture: SQLite, DynamoDB on
moto): each SPEC §5 access pattern returns exactly its rows in key order, loading a date
makes that date's rows exactly the new ones (per-date replacement), loading a period makes
that period's rows exactly the new ones, an upserted song or user replaces the old one whole,
and a query no key serves is refused with a one-line message."""

from __future__ import annotations

from datetime import date

import pytest

from musicstream.datasets import KPI_TABLES
from musicstream.errors import UserError
from musicstream.settings import Settings
from musicstream.stores import KpiQuery, Store, create_store

from .data import (
    D1,
    D2,
    D3,
    DIMENSION_PATTERNS,
    PATTERNS,
    PERIOD_LOADS,
    SONGS,
    THIRD,
    USERS,
    Row,
    all_tables,
    arrow,
    dimension,
    kpi_rows,
    load_periods,
    period_row,
    period_table,
    read_date,
)

KEY_ORDER = {  # SPEC §5 keys, in the order rows come back (§6: "rows in key order")
    "genre_daily": ("report_date", "genre"),
    "top_songs_daily": ("report_date", "genre", "rank"),
    "top_genres_daily": ("report_date", "rank"),
    "track_daily": ("track_id", "report_date"),
    "country_daily": ("report_date", "country"),
    "top_artists_daily": ("report_date", "rank"),
    "user_daily": ("user_id", "report_date"),
    "hourly_activity": ("report_date", "hour"),
    "active_listeners": ("period", "period_start"),
}
LOADS = {D1: 30, D2: 20, D3: 10}  # rows per table of each date (ranks past 9 sort as numbers)


def dated(day: date, rows: list[Row]) -> list[Row]:
    return [{"report_date": day.isoformat(), **r} for r in rows]


def in_key_order(table: str, rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: tuple(r[k] for k in KEY_ORDER[table]))


# -- access patterns ------------------------------------------------------------------------


@pytest.fixture
def loaded(store: Store) -> dict[date, dict[str, list[Row]]]:
    """Three dates loaded, each table's rows given in reverse key order, and the periods of
    PERIOD_LOADS; what each date got."""
    given = {}
    for salt, (day, n) in enumerate(LOADS.items()):
        given[day] = {t: kpi_rows(t, n, salt)[::-1] for t in KPI_TABLES}
        store.replace_date(day, {t: arrow(t, rows) for t, rows in given[day].items()})
    load_periods(store)
    return given


def in_range(q: KpiQuery, day: date) -> bool:
    if q.date is not None:
        return day == q.date
    return (q.date_from or date.min) <= day <= (q.date_to or date.max)


def expected(q: KpiQuery, given: dict[date, dict[str, list[Row]]]) -> list[Row]:
    """The loaded rows ``q`` asks for: its date or range, its genre, track, user or period
    kind, in key order."""
    if q.table == "active_listeners":
        rows = [
            {"period": p, "period_start": start.isoformat(), **r}
            for (p, start), period_rows in PERIOD_LOADS.items()
            for r in period_rows
            if p == q.period and in_range(q, start)
        ]
        return in_key_order(q.table, rows)
    keys = {
        k: v
        for k, v in (("genre", q.genre), ("track_id", q.track), ("user_id", q.user))
        if v is not None
    }
    rows = [r for d in given if in_range(q, d) for r in dated(d, given[d][q.table])]
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
    assert store.query(KpiQuery("user_daily", date_from=D1, date_to=D3, user="u999")) == []
    assert store.query(KpiQuery("hourly_activity", date=D2)) == []
    assert store.query(KpiQuery("active_listeners", date=D1, period="week")) == []
    assert store.query(KpiQuery("songs", track="t001")) == []
    assert store.query(KpiQuery("users", user="u001")) == []


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
    for table in KPI_TABLES:  # rows 0-9: every track and user either load of D1 had
        new = dated(D1, kpi_rows(table, 6, salt=10, first=4))
        assert read_date(store, table, D1, 10) == in_key_order(table, new), table
        other = dated(D2, kpi_rows(table, 7, salt=1))
        assert read_date(store, table, D2, 10) == in_key_order(table, other), table
    # a track or user only the old load of D1 had: its range now holds its D2 row only
    only_d2 = dated(D2, kpi_rows("track_daily", 1, salt=1))
    assert store.query(KpiQuery("track_daily", date_from=D1, date_to=D2, track="t000")) == only_d2
    only_d2 = dated(D2, kpi_rows("user_daily", 1, salt=1))
    assert store.query(KpiQuery("user_daily", date_from=D1, date_to=D2, user="u000")) == only_d2
    assert only_d2 == [  # written out: the generated rows are what this test thinks they are
        {
            "report_date": "2026-01-02",
            "user_id": "u000",
            "listen_count": 2,
            "unique_tracks": 2,
            "total_listening_ms": 2,
            "top_genre": "top00",
        }
    ]


def test_an_empty_table_removes_the_dates_rows(store: Store) -> None:
    store.replace_date(D1, all_tables(5))
    store.replace_date(D2, all_tables(5, salt=1))
    store.replace_date(D1, {t: arrow(t, []) for t in KPI_TABLES})
    for table in KPI_TABLES:
        assert read_date(store, table, D1, 5) == [], table
        other = dated(D2, kpi_rows(table, 5, salt=1))
        assert read_date(store, table, D2, 5) == in_key_order(table, other), table


def test_loading_the_same_date_again_is_idempotent(store: Store) -> None:
    for _ in range(2):
        store.replace_date(D1, all_tables(5))
    for table in KPI_TABLES:
        want = in_key_order(table, dated(D1, kpi_rows(table, 5)))
        assert read_date(store, table, D1, 5) == want, table


def test_init_again_on_a_loaded_store_keeps_its_rows(
    store: Store, store_settings: Settings
) -> None:
    store.replace_date(D1, all_tables(4))
    load_periods(store)
    store.upsert_dimension("songs", dimension("songs", SONGS))
    again = create_store(store_settings)
    try:
        again.init()
        for table in KPI_TABLES:
            want = in_key_order(table, dated(D1, kpi_rows(table, 4)))
            assert read_date(again, table, D1, 4) == want, table
        month = {"period": "month", "period_start": "2026-01-01", **PERIOD_LOADS["month", D1][0]}
        assert again.query(KpiQuery("active_listeners", date=D1, period="month")) == [month]
        assert again.query(KpiQuery("songs", track="t3")) == [SONGS[2]]
    finally:
        again.close()


# -- per-period replacement (active_listeners) ----------------------------------------------


def weeks(store: Store) -> list[Row]:
    start, end = date(2025, 1, 1), date(2026, 12, 31)
    return store.query(KpiQuery("active_listeners", date_from=start, date_to=end, period="week"))


def test_replacing_a_period_leaves_exactly_its_new_rows_and_other_periods_untouched(
    store: Store,
) -> None:
    load_periods(store)
    new_day = period_row("2026-01-01", 30, 9)
    store.replace_period("active_listeners", "day", D1, period_table([new_day]))
    store.replace_period("active_listeners", "week", date(2026, 1, 5), period_table([]))
    day = store.query(KpiQuery("active_listeners", date=D1, period="day"))
    assert day == [
        {
            "period": "day",
            "period_start": "2026-01-01",
            "period_end": "2026-01-01",
            "listeners": 30,
            "new_listeners": 9,
            "listen_count": 300,
            "total_listening_ms": 30000 + 2**40,
        }
    ]
    # the month starting the same date is another period: untouched
    month = store.query(KpiQuery("active_listeners", date=D1, period="month"))
    assert [(r["period_end"], r["listeners"], r["new_listeners"]) for r in month] == [
        ("2026-01-31", 11, 5)
    ]
    assert [(r["period_start"], r["period_end"], r["listeners"]) for r in weeks(store)] == [
        ("2025-12-22", "2025-12-28", 5),
        ("2025-12-29", "2026-01-04", 6),
        ("2026-01-12", "2026-01-18", 8),
        ("2026-01-19", "2026-01-25", 9),
    ]


def test_loading_the_same_period_again_is_idempotent(store: Store) -> None:
    for _ in range(2):
        load_periods(store)
    assert [r["listeners"] for r in weeks(store)] == [5, 6, 7, 8, 9]
    days = KpiQuery("active_listeners", date_from=D1, date_to=D3, period="day")
    assert [(r["period_start"], r["listeners"]) for r in store.query(days)] == [
        ("2026-01-01", 3),
        ("2026-01-02", 4),
    ]


# -- dimensions (songs, users) --------------------------------------------------------------


def test_an_upsert_replaces_each_given_key_whole_and_leaves_other_keys(store: Store) -> None:
    store.upsert_dimension("songs", dimension("songs", SONGS))
    store.upsert_dimension("users", dimension("users", USERS))
    song = {**SONGS[1], "album_name": None, "popularity": None, "explicit": True, "genre": "jazz"}
    user = {**USERS[1], "country": None, "created_at": None, "user_name": "Renamed"}
    store.upsert_dimension("songs", dimension("songs", [song]))
    store.upsert_dimension("users", dimension("users", [user]))
    assert store.query(KpiQuery("songs", track="t2")) == [
        {
            "track_id": "t2",
            "track_name": "Song 2",
            "artists": "A2;B2",
            "album_name": None,
            "genre": "jazz",
            "duration_ms": 2**33 + 2,
            "popularity": None,
            "explicit": True,
        }
    ]
    assert store.query(KpiQuery("users", user="u2")) == [
        {
            "user_id": "u2",
            "user_name": "Renamed",
            "user_age": 22,
            "country": None,
            "created_at": None,
        }
    ]
    for other in ("t1", "t3"):
        assert store.query(KpiQuery("songs", track=other)) == [
            s for s in SONGS if s["track_id"] == other
        ]
    assert store.query(KpiQuery("users", user="u3")) == [USERS[2]]


@pytest.mark.parametrize("q", DIMENSION_PATTERNS.values(), ids=DIMENSION_PATTERNS)
def test_a_song_or_user_reads_back_with_its_types(store: Store, q: KpiQuery) -> None:
    store.upsert_dimension("songs", dimension("songs", SONGS))
    store.upsert_dimension("users", dimension("users", USERS))
    want = {
        "songs": {
            "track_id": "t2",
            "track_name": "Song 2",
            "artists": "A2;B2",
            "album_name": "Album 2",
            "genre": "g2",
            "duration_ms": 8589934594,
            "popularity": 20,
            "explicit": False,
        },
        "users": {
            "user_id": "u2",
            "user_name": "User 2",
            "user_age": 22,
            "country": "DE",
            "created_at": "2025-12-02T08:30:00",
        },
    }[q.table]
    [got] = store.query(q)
    assert got == want
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}


def test_a_created_at_timestamp_is_stored_as_its_iso_text(store: Store) -> None:
    """The loader hands over the curated timestamp column; it reads back as ISO text."""
    users = [
        {**USERS[0], "created_at": "2025-12-01T08:30:00.250000"},
        {**USERS[1], "created_at": None},
    ]
    store.upsert_dimension("users", dimension("users", users, timestamps=True))
    [u1] = store.query(KpiQuery("users", user="u1"))
    assert u1["created_at"] == "2025-12-01T08:30:00.250000"
    assert store.query(KpiQuery("users", user="u2"))[0]["created_at"] is None


# -- queries no key serves ------------------------------------------------------------------

REFUSED: dict[str, tuple[KpiQuery, str]] = {
    "unknown table": (KpiQuery("nope", date=D1), "one of genre_daily, "),
    "user_daily without user": (
        KpiQuery("user_daily", date=D1),
        "user_daily is read per user: add --user ID",
    ),
    "user_daily range without user": (
        KpiQuery("user_daily", date_from=D1, date_to=D2),
        "add --user ID",
    ),
    "user_daily with a period": (
        KpiQuery("user_daily", date=D1, user="u001", period="day"),
        "user_daily has no period",
    ),
    "user_daily from after to": (
        KpiQuery("user_daily", date_from=D2, date_to=D1, user="u001"),
        "--from 2026-01-02 is after --to 2026-01-01",
    ),
    "user_daily date and range": (
        KpiQuery("user_daily", date=D1, date_to=D2, user="u001"),
        "not both",
    ),
    "hourly_activity over a range": (
        KpiQuery("hourly_activity", date_from=D1, date_to=D2),
        "a date range is served for one genre",
    ),
    "hourly_activity with a user": (
        KpiQuery("hourly_activity", date=D1, user="u001"),
        "hourly_activity has no user_id",
    ),
    "hourly_activity with a genre": (
        KpiQuery("hourly_activity", date=D1, genre="g1"),
        "hourly_activity has no genre",
    ),
    "genre_daily with a user": (KpiQuery("genre_daily", date=D1, user="u001"), "drop --user"),
    "genre_daily with a period": (
        KpiQuery("genre_daily", date=D1, period="day"),
        "drop --period",
    ),
    "active_listeners without period": (
        KpiQuery("active_listeners", date_from=D1, date_to=D2),
        "active_listeners is read per period kind: add --period (day/week/month)",
    ),
    "active_listeners unknown period": (
        KpiQuery("active_listeners", date=D1, period="year"),
        "unknown period 'year'; one of day, week, month",
    ),
    "active_listeners without dates": (
        KpiQuery("active_listeners", period="week"),
        "give --date, or --from/--to",
    ),
    "active_listeners with a user": (
        KpiQuery("active_listeners", date=D1, period="week", user="u001"),
        "active_listeners has no user_id",
    ),
    "songs without track": (KpiQuery("songs"), "songs is read by key: add --track ID"),
    "songs with a date": (KpiQuery("songs", date=D1, track="t1"), "drop --date"),
    "songs with a range": (
        KpiQuery("songs", date_from=D1, date_to=D2, track="t1"),
        "drop --from/--to",
    ),
    "songs with a genre": (KpiQuery("songs", track="t1", genre="g1"), "drop --genre"),
    "users without user": (KpiQuery("users"), "users is read by key: add --user ID"),
    "users by track": (KpiQuery("users", track="t1"), "drop --track"),
    "users with a period": (KpiQuery("users", user="u1", period="day"), "drop --period"),
}


@pytest.mark.parametrize(("q", "message"), REFUSED.values(), ids=REFUSED)
def test_a_query_no_key_serves_is_refused_in_one_line(
    store: Store, q: KpiQuery, message: str
) -> None:
    with pytest.raises(UserError) as refused:
        store.query(q)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_unknown_table_message_lists_every_served_table() -> None:
    with pytest.raises(UserError) as refused:
        KpiQuery("nope", date=D1).check()
    assert str(refused.value) == (
        "unknown KPI table 'nope'; one of genre_daily, top_songs_daily, top_genres_daily, "
        "track_daily, country_daily, top_artists_daily, user_daily, hourly_activity, "
        "active_listeners, songs, users"
    )
