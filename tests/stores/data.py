"""Made-up KPI and dimension rows for the store tests, the access patterns, and a reader of
a whole date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pyarrow as pa

from musicstream.datasets import KPI_COLUMNS, KPI_TABLES, KPIS, STORE_DIMENSIONS
from musicstream.schema import Table
from musicstream.stores import KpiQuery, Store

Row = dict[str, Any]

D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
THIRD = 1 / 3  # needs all 17 significant digits to come back as the same double
PARTITION = ("report_date", "period", "period_start")  # folder keys, never in a lake file

# SPEC §5 access patterns 1-10, on the dates of the `loaded` data of test_contract.py
# (active_listeners: the periods of PERIOD_LOADS).
PATTERNS: dict[str, KpiQuery] = {
    "1 genre_daily of a date": KpiQuery("genre_daily", date=D2),
    "2 one genre over a date range": KpiQuery("genre_daily", date_from=D2, date_to=D3, genre="g1"),
    "3 top_songs_daily of a date": KpiQuery("top_songs_daily", date=D2),
    "3 top_songs_daily of a date and genre": KpiQuery("top_songs_daily", date=D2, genre="g2"),
    "4 top_genres_daily of a date": KpiQuery("top_genres_daily", date=D2),
    "5 one track over a date range": KpiQuery(
        "track_daily", date_from=D1, date_to=D2, track="t001"
    ),
    "5 one track on a date": KpiQuery("track_daily", date=D3, track="t001"),
    "6 country_daily of a date": KpiQuery("country_daily", date=D2),
    "7 top_artists_daily of a date": KpiQuery("top_artists_daily", date=D2),
    "8 one user over a date range": KpiQuery("user_daily", date_from=D1, date_to=D2, user="u001"),
    "8 one user on a date": KpiQuery("user_daily", date=D3, user="u001"),
    "9 hourly_activity of a date": KpiQuery("hourly_activity", date=D1),
    "10 weeks over a range of starts": KpiQuery(
        "active_listeners", date_from=date(2025, 12, 29), date_to=date(2026, 1, 12), period="week"
    ),
    "10 one month by its start": KpiQuery("active_listeners", date=D1, period="month"),
}
# Patterns 11 and 12, on SONGS and USERS.
DIMENSION_PATTERNS: dict[str, KpiQuery] = {
    "11 one song": KpiQuery("songs", track="t2"),
    "12 one user": KpiQuery("users", user="u2"),
}


def kpi_rows(table: str, n: int, salt: int = 0, first: int = 0) -> list[Row]:
    """Rows ``first`` … ``first + n - 1`` of ``table`` (no report_date, as the lake stores them).

    Row ``i`` has genre ``g{i}`` (top_songs_daily: ``g{i % 3}`` under ranks 1, 2, …), rank
    ``i + 1``, track ``t{i:03d}``, user ``u{i:03d}`` and hour ``i``; ``salt`` shifts every
    number, so two loads differ.
    """
    cols = {c: t for c, t in KPI_COLUMNS[table].items() if c not in PARTITION}
    rows = []
    for i in range(first, first + n):
        row: Row = {
            c: {"str": f"{c[:3]}{i:02d}", "int": i + 1 + salt, "float": (i + 1 + salt) * THIRD}[t]
            for c, t in cols.items()
        }
        keys = {
            "genre": f"g{i % 3}" if table == "top_songs_daily" else f"g{i}",
            "rank": i // 3 + 1 if table == "top_songs_daily" else i + 1,
            "track_id": f"t{i:03d}",
            "user_id": f"u{i:03d}",
            "hour": i,  # past 23 here: the stores do not check, and 10 must sort after 9
        }
        row.update({k: v for k, v in keys.items() if k in row})
        rows.append(row)
    return rows


def _arrow(schema: Table, rows: list[Row]) -> pa.Table:
    """``rows`` in the lake's Arrow types; a date column's ISO text becomes a date."""
    dates = {name for name, kind in schema.columns if kind == "date"}
    typed = [{k: _day(v) if k in dates else v for k, v in r.items()} for r in rows]
    return pa.Table.from_pylist(typed, schema=schema.arrow_schema())


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def arrow(table: str, rows: list[Row]) -> pa.Table:
    """``rows`` as the lake's Parquet gives them: the table's columns, even when empty."""
    return _arrow(KPIS[table], rows)


def all_tables(n: int, salt: int = 0, first: int = 0) -> dict[str, pa.Table]:
    return {t: arrow(t, kpi_rows(t, n, salt, first)) for t in KPI_TABLES}


def track_ids(n: int) -> list[str]:
    """The track ids of rows 0 … n - 1 of :func:`kpi_rows`."""
    return [f"t{i:03d}" for i in range(n)]


def read_date(store: Store, table: str, day: date, n: int) -> list[Row]:
    """Every row of ``table`` on ``day`` through the access patterns. track_daily and
    user_daily have no pattern for a whole date: they are read per track / user of the rows
    0 … n - 1 of :func:`kpi_rows`."""
    per = {"track_daily": "track", "user_daily": "user"}.get(table)
    if per is None:
        return store.query(KpiQuery(table, date=day))
    keys = [f"{per[0]}{i:03d}" for i in range(n)]
    return [r for k in keys for r in store.query(KpiQuery(table, date=day, **{per: k}))]


# -- active_listeners -----------------------------------------------------------------------


def period_row(end: str, listeners: int, new: int = 0) -> Row:
    """One active_listeners row as the lake file has it (no period, no period_start)."""
    return {
        "period_end": end,
        "listeners": listeners,
        "new_listeners": new,
        "listen_count": 10 * listeners,
        "total_listening_ms": 1000 * listeners + 2**40,
    }


def period_table(rows: list[Row]) -> pa.Table:
    return arrow("active_listeners", rows)


# (period, period_start) -> its rows. The day 2026-01-01 and the month 2026-01-01 share a
# start: replacing one must leave the other.
PERIOD_LOADS: dict[tuple[str, date], list[Row]] = {
    ("day", D1): [period_row("2026-01-01", 3, 1)],
    ("day", D2): [period_row("2026-01-02", 4)],
    ("week", date(2025, 12, 22)): [period_row("2025-12-28", 5)],
    ("week", date(2025, 12, 29)): [period_row("2026-01-04", 6, 2)],
    ("week", date(2026, 1, 5)): [period_row("2026-01-11", 7)],
    ("week", date(2026, 1, 12)): [period_row("2026-01-18", 8)],
    ("week", date(2026, 1, 19)): [period_row("2026-01-25", 9)],
    ("month", date(2025, 12, 1)): [period_row("2025-12-31", 10)],
    ("month", D1): [period_row("2026-01-31", 11, 5)],
}


def load_periods(store: Store) -> None:
    """Every period of PERIOD_LOADS, the latest first (so key order is the store's doing)."""
    for (period, start), rows in reversed(PERIOD_LOADS.items()):
        store.replace_period("active_listeners", period, start, period_table(rows))


# -- dimensions -----------------------------------------------------------------------------

SONGS: list[Row] = [
    {
        "track_id": f"t{i}",
        "track_name": f"Song {i}",
        "artists": f"A{i};B{i}",
        "album_name": f"Album {i}",
        "genre": f"g{i}",
        "duration_ms": 2**33 + i,
        "popularity": i * 10,
        "explicit": i % 2 == 1,
    }
    for i in range(1, 4)
]
USERS: list[Row] = [
    {
        "user_id": f"u{i}",
        "user_name": f"User {i}",
        "user_age": 20 + i,
        "country": "DE",
        "created_at": f"2025-12-0{i}T08:30:00",
    }
    for i in range(1, 4)
]


def dimension(name: str, rows: list[Row], timestamps: bool = False) -> pa.Table:
    """``rows`` in the store columns of ``name``: created_at as its ISO text, or with
    ``timestamps`` as the curated timestamp the loader reads."""
    if not timestamps:
        columns = tuple(
            (c, "string" if k == "timestamp" else k) for c, _, k in STORE_DIMENSIONS[name]
        )
        return _arrow(Table(name, columns), rows)
    columns = tuple((c, k) for c, _, k in STORE_DIMENSIONS[name])
    stamped = [{**r, "created_at": _stamp(r["created_at"])} for r in rows]
    return pa.Table.from_pylist(stamped, schema=Table(name, columns).arrow_schema())


def _stamp(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
