"""Made-up KPI rows for the store tests, the access patterns, and a reader of a whole date."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa

from musicstream.datasets import KPI_COLUMNS, KPI_TABLES
from musicstream.stores import KpiQuery, Store

Row = dict[str, Any]

D1, D2, D3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
THIRD = 1 / 3  # needs all 17 significant digits to come back as the same double
_ARROW = {"str": pa.string(), "int": pa.int64(), "float": pa.float64()}

# SPEC §5 access patterns the stores serve today (1-7; 8-12 have no tables yet), on the
# dates of the `loaded` data of test_contract.py.
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
}


def kpi_rows(table: str, n: int, salt: int = 0, first: int = 0) -> list[Row]:
    """Rows ``first`` … ``first + n - 1`` of ``table`` (no report_date, as the lake stores them).

    Row ``i`` has genre ``g{i}`` (top_songs_daily: ``g{i % 3}`` under ranks 1, 2, …), rank
    ``i + 1`` and track ``t{i:03d}``; ``salt`` shifts every number, so two loads differ.
    """
    cols = {c: t for c, t in KPI_COLUMNS[table].items() if c != "report_date"}
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
        }
        row.update({k: v for k, v in keys.items() if k in row})
        rows.append(row)
    return rows


def arrow(table: str, rows: list[Row]) -> pa.Table:
    """``rows`` as the lake's Parquet gives them: the table's columns, even when empty."""
    cols = [(c, _ARROW[t]) for c, t in KPI_COLUMNS[table].items() if c != "report_date"]
    return pa.Table.from_pylist(rows, schema=pa.schema(cols))


def all_tables(n: int, salt: int = 0, first: int = 0) -> dict[str, pa.Table]:
    return {t: arrow(t, kpi_rows(t, n, salt, first)) for t in KPI_TABLES}


def track_ids(n: int) -> list[str]:
    """The track ids of rows 0 … n - 1 of :func:`kpi_rows`."""
    return [f"t{i:03d}" for i in range(n)]


def read_date(store: Store, table: str, day: date, tracks: list[str]) -> list[Row]:
    """Every row of ``table`` on ``day`` through the access patterns. track_daily has no
    pattern for a whole date: it is read track by track, for each of ``tracks``."""
    if table != "track_daily":
        return store.query(KpiQuery(table, date=day))
    return [r for t in sorted(tracks) for r in store.query(KpiQuery(table, date=day, track=t))]
