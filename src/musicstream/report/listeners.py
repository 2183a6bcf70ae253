"""The listener-insight data of the report: ``hourly_activity``, ``active_listeners`` and
``user_daily`` (SPEC §3), read with DuckDB over the lake, and shaped for the charts.

Read through ``lakeio`` (the tables' files and partition keys as in the Athena catalog), with
queries of their own rather than the analyst library's: each chart needs one small
aggregate, and a table missing from the lake (a lake written before these KPIs existed)
gives an empty chart, not a failed report. The shaping functions are pure, so the HTML and
the PNG charts draw the same numbers and tests can check them by hand.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import duckdb

from musicstream.report import lakeio
from musicstream.sqltext import literal

if TYPE_CHECKING:
    from musicstream.report.charts import Row

LISTENER_TABLES = ("hourly_activity", "active_listeners", "user_daily")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS = range(24)
PERIOD_NAMES = {"day": "DAU", "week": "WAU", "month": "MAU"}
LINEAR_BINS = 20  # up to this many streams per user-day, one bin per count
_OPEN = (date(1970, 1, 1), date(9999, 12, 31))

_HOURLY = """
select isodow(cast(report_date as date)) as weekday, hour,
       cast(sum(listen_count) as bigint) as listen_count
from ({source}) where report_date between {lo} and {hi}
group by all order by weekday, hour
"""
# Every period overlapping the report's dates: a week or month that starts before them
# still shows, as the report's first day counts towards it.
_ACTIVE = """
select period, cast(period_start as date) as period_start, period_end,
       listeners, new_listeners
from ({source}) where period_start <= {hi} and period_end >= cast({lo} as date)
order by period, period_start
"""
_ACTIVITY = """
select listen_count, count(*) as user_days
from ({source}) where report_date between {lo} and {hi}
group by listen_count order by listen_count
"""
_QUERIES = {"hourly_activity": _HOURLY, "active_listeners": _ACTIVE, "user_daily": _ACTIVITY}


def load(
    con: duckdb.DuckDBPyConnection,
    lake: str,
    table: str,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[Row]:
    """The report's aggregate of one listener table over the period (inclusive bounds,
    None = open); [] when the lake has no files of that table."""
    try:
        spec = lakeio.require_table(con, lake, table)
    except lakeio.LakeDataMissing:
        return []
    lo, hi = date_from or _OPEN[0], date_to or _OPEN[1]
    sql = _QUERIES[table].format(
        source=lakeio.source_sql(lake, spec), lo=literal(lo), hi=literal(hi)
    )
    return con.sql(sql).to_arrow_table().to_pylist()


def weekday_hour(rows: list[Row]) -> list[list[int]]:
    """Plays per weekday (Mon..Sun) and UTC hour (0..23): 7 lists of 24 counts."""
    grid = [[0 for _ in HOURS] for _ in WEEKDAYS]
    for r in rows:
        grid[r["weekday"] - 1][r["hour"]] += r["listen_count"]
    return grid


def by_period(rows: list[Row]) -> dict[str, list[Row]]:
    """active_listeners rows per period kind (day, week, month), each by period_start."""
    found: dict[str, list[Row]] = {p: [] for p in PERIOD_NAMES}
    for r in rows:
        found.setdefault(r["period"], []).append(r)
    return {p: sorted(rs, key=lambda r: r["period_start"]) for p, rs in found.items() if rs}


def steps(rows: list[Row], value: str) -> tuple[list[date | None], list[int | None]]:
    """A period series as flat steps: each period a segment from its start to the start of
    the next day after its end, segments split by None (a gap between periods shows)."""
    xs: list[date | None] = []
    ys: list[int | None] = []
    for r in rows:
        xs += [r["period_start"], r["period_end"] + timedelta(days=1), None]
        ys += [r[value], r[value], None]
    return xs[:-1], ys[:-1]


def activity_bins(rows: list[Row]) -> list[tuple[str, int]]:
    """User-days per number of streams, as (bin label, user-days), every bin from 1 up.

    One bin per count up to ``LINEAR_BINS``; beyond, the counts are heavy-tailed, so the bins
    double in width (1, 2, 3-4, 5-8, …) and the long tail stays readable.
    """
    counts = {r["listen_count"]: r["user_days"] for r in rows if r["listen_count"] > 0}
    if not counts:
        return []
    top = max(counts)
    edges = _linear(top) if top <= LINEAR_BINS else _doubling(top)
    return [(_bin_label(lo, hi), _sum_in(counts, lo, hi)) for lo, hi in edges]


def _linear(top: int) -> list[tuple[int, int]]:
    return [(n, n) for n in range(1, top + 1)]


def _doubling(top: int) -> list[tuple[int, int]]:
    edges, lo = [(1, 1)], 2
    while lo <= top:
        edges.append((lo, 2 * lo - 2))
        lo = 2 * lo - 1
    return edges


def _bin_label(lo: int, hi: int) -> str:
    return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"


def _sum_in(counts: dict[int, int], lo: int, hi: int) -> int:
    return sum(n for c, n in counts.items() if lo <= c <= hi)


def is_log_binned(bins: list[tuple[str, int]]) -> bool:
    """Whether ``activity_bins`` chose doubling bins (their labels are ranges)."""
    return any("-" in label for label, _ in bins)
