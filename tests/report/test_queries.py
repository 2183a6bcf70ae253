"""The analyst queries on the fixture lake: hand-computed answers, and the same answer as a
hand-written DuckDB query (DuckDB idioms, report_date read as a DATE) for every query."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from musicstream.report.queries import Params, run_query

D1, D2, D3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 12)
BATCH1, BATCH2, BATCH3 = (
    "20260105T090000Z-aaaa1111",
    "20260106T090000Z-bbbb2222",
    "20260112T090000Z-cccc3333",
)


KPI_NAMES = (
    "genre_daily",
    "top_genres_daily",
    "country_daily",
    "track_daily",
    "top_songs_daily",
    "batch_quality",
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r.values()) for r in table.to_pylist()]


def same(actual: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> bool:
    """Row-by-row equality, floats to 1e-12 relative."""
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected, strict=True):
        assert len(a) == len(e), (a, e)
        for x, y in zip(a, e, strict=True):
            assert x == (pytest.approx(y, rel=1e-12) if isinstance(y, float) else y), (a, e)
    return True


def hand(con: duckdb.DuckDBPyConnection, kpi_lake: str, sql: str, *args: object) -> list[tuple]:
    """Run a hand-written DuckDB query; {table} names a KPI table with a DATE report_date."""
    sources = {
        t: f"read_parquet('{kpi_lake}/kpis/{t}/*/*.parquet', hive_partitioning = true)"
        for t in KPI_NAMES
    }
    return con.execute(sql.format(**sources), list(args)).fetchall()


def test_genre_trend_daily(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "genre_trend_daily", Params(D2, D3)))
    assert same(
        got,
        [
            (D2, "pop", 3, 2, 450_000, 225_000.0, 0.75),
            (D2, "rock", 1, 1, 200_000, 200_000.0, 0.25),
            (D3, "pop", 5, 3, 600_000, 200_000.0, 5 / 8),
            (D3, "jazz", 2, 1, 240_000, 240_000.0, 2 / 8),
            (D3, "folk", 1, 1, 60_000, 60_000.0, 1 / 8),
        ],
    )
    expected = hand(
        con,
        kpi_lake,
        """select report_date, genre, listen_count, unique_listeners, total_listening_ms,
                  avg_listening_ms_per_user,
                  listen_count / sum(listen_count) over (partition by report_date)
           from {genre_daily} where report_date between ? and ?
           order by report_date, listen_count desc, genre""",
        D2,
        D3,
    )
    assert same(got, expected)


def test_genre_trend_weekly(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "genre_trend_weekly"))
    assert same(
        got,
        [
            (D1, "pop", 2, 5, 750_000, 2.0, 2),
            (D1, "rock", 2, 5, 1_000_000, 1.5, 2),
            (D1, "folk", 1, 1, 100_000, 0.5, 1),
            (D3, "pop", 1, 5, 600_000, 3.0, 3),
            (D3, "jazz", 1, 2, 240_000, 1.0, 1),
            (D3, "folk", 1, 1, 60_000, 1.0, 1),
        ],
    )
    expected = hand(
        con,
        kpi_lake,
        """with g as (select *, date_trunc('week', report_date)::date as wk from {genre_daily}),
                n as (select wk, count(distinct report_date) as days from g group by wk)
           select wk, genre, count(*), sum(listen_count)::bigint, sum(total_listening_ms)::bigint,
                  sum(unique_listeners) / any_value(days), max(unique_listeners)
           from g join n using (wk) group by wk, genre order by wk, 4 desc, genre""",
    )
    assert same(got, expected)


def test_top_genres_trend_keeps_only_genres_that_made_the_top_list(
    con: duckdb.DuckDBPyConnection, kpi_lake: str
) -> None:
    got = rows(run_query(con, kpi_lake, "top_genres_trend"))
    assert {r[1] for r in got} == {"rock", "pop", "jazz"}  # folk never made the top 2
    assert same(got[:2], [(D1, "rock", 4, 2, 800_000), (D1, "pop", 2, 2, 300_000)])
    expected = hand(
        con,
        kpi_lake,
        """select report_date, genre, listen_count, unique_listeners, total_listening_ms
           from {genre_daily}
           where genre in (select genre from {top_genres_daily})
           order by report_date, listen_count desc, genre""",
    )
    assert same(got, expected)


def test_genre_share(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "genre_share"))
    assert same(
        got,
        [
            ("pop", 10, 1_350_000, 10 / 19, 1_350_000 / 2_750_000),
            ("rock", 5, 1_000_000, 5 / 19, 1_000_000 / 2_750_000),
            ("folk", 2, 160_000, 2 / 19, 160_000 / 2_750_000),
            ("jazz", 2, 240_000, 2 / 19, 240_000 / 2_750_000),
        ],
    )
    expected = hand(
        con,
        kpi_lake,
        """select genre, sum(listen_count)::bigint as n, sum(total_listening_ms)::bigint as ms,
                  n / sum(n) over (), ms / sum(ms) over ()
           from {genre_daily} group by genre order by n desc, genre""",
    )
    assert same(got, expected)


def test_country_plays(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "country_plays"))
    assert same(
        got,
        [
            ("DE", 9, 1_550_000, 4 / 3, 2, 9 / 19),
            ("US", 7, 860_000, 3 / 3, 2, 7 / 19),
            ("Unknown", 3, 340_000, 1 / 3, 1, 3 / 19),
        ],
    )
    expected = hand(
        con,
        kpi_lake,
        """select country, sum(listen_count)::bigint as n, sum(total_listening_ms)::bigint,
                  sum(unique_listeners) / (select count(distinct report_date) from {country_daily}),
                  max(unique_listeners), n / sum(n) over ()
           from {country_daily} group by country order by n desc, country""",
    )
    assert same(got, expected)


def test_country_plays_in_a_period(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "country_plays", Params(D1, D2)))
    assert same(got, [("DE", 9, 1_550_000, 2.0, 2, 9 / 11), ("US", 2, 300_000, 0.5, 1, 2 / 11)])


def test_top_artists(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "top_artists"))
    assert same(
        got,
        [
            (1, "Gamma", 9, 1_230_000, 1),
            (2, "Alpha", 7, 1_160_000, 3),  # "Alpha; Alpha" credits Alpha once
            (3, "Beta", 5, 920_000, 2),
            (4, "Epsilon", 2, 240_000, 1),  # ties on plays: more listening time first
            (5, "Delta", 2, 160_000, 1),  # " Delta " trimmed; the empty credit is dropped
        ],
    )
    expected = hand(
        con,
        kpi_lake,
        """with c as (
               select distinct report_date, track_id,
                      trim(unnest(string_split(artists, ';'))) as artist,
                      listen_count, total_listening_ms
               from {track_daily})
           select row_number() over (order by sum(listen_count) desc,
                                     sum(total_listening_ms) desc, artist) as r,
                  artist, sum(listen_count)::bigint, sum(total_listening_ms)::bigint,
                  count(distinct track_id)
           from c where artist != '' group by artist qualify r <= 3 order by r""",
    )
    assert same(rows(run_query(con, kpi_lake, "top_artists", Params(top_n=3))), expected)


def test_top_artists_in_a_period(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "top_artists", Params(D3, D3, top_n=2)))
    assert same(got, [(1, "Gamma", 4, 480_000, 1), (2, "Epsilon", 2, 240_000, 1)])


def test_top_songs_latest(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "top_songs_latest"))
    assert [(r[0], r[1], r[2], r[3], r[6], r[8]) for r in got] == [
        (D3, "pop", 1, "t3", 4, 5),
        (D3, "pop", 2, "t5", 1, 5),
        (D3, "jazz", 1, "t6", 2, 2),
        (D3, "folk", 1, "t4", 1, 1),
    ]
    early = rows(run_query(con, kpi_lake, "top_songs_latest", Params(date_to=D2)))
    expected = hand(
        con,
        kpi_lake,
        """select s.report_date, s.genre, s.rank, s.track_id, s.track_name, s.artists,
                  s.listen_count, s.unique_listeners, g.listen_count
           from {top_songs_daily} s join {genre_daily} g using (report_date, genre)
           where s.report_date = ? order by g.listen_count desc, s.genre, s.rank""",
        D2,
    )
    assert early == expected
    assert [(r[1], r[3]) for r in early] == [("pop", "t3"), ("rock", "t1")]


def test_listener_engagement(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "listener_engagement"))
    assert same(
        got,
        [
            (D1, 3, 7, 1_200_000, 400_000.0, 7 / 3),
            (D2, 2, 4, 650_000, 325_000.0, 2.0),
            (D3, 3, 8, 900_000, 300_000.0, 8 / 3),
        ],
    )
    expected = hand(
        con,
        kpi_lake,
        """select report_date, sum(unique_listeners)::bigint as u, sum(listen_count)::bigint as n,
                  sum(total_listening_ms)::bigint as ms, ms / u, n / u
           from {country_daily} group by report_date order by report_date""",
    )
    assert same(got, expected)


def test_quality_by_batch(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = rows(run_query(con, kpi_lake, "quality_by_batch"))
    assert (BATCH1, "streams", "warning", "listen_before_signup", 3) in got
    assert (BATCH3, "streams", "quarantined", "unknown_track", 2) in got
    assert len(got) == 10
    expected = hand(
        con,
        kpi_lake,
        """select batch_id, dataset,
                  case reason when 'kept' then 'kept' when 'listen_before_signup' then 'warning'
                              else 'quarantined' end as outcome,
                  reason, "rows"
           from {batch_quality} order by batch_id, dataset, outcome, reason""",
    )
    assert got == expected


def test_quality_by_batch_period_selects_batches_by_their_date(
    con: duckdb.DuckDBPyConnection, kpi_lake: str
) -> None:
    got = rows(run_query(con, kpi_lake, "quality_by_batch", Params(D2, D2)))
    assert got == [
        (BATCH2, "streams", "kept", "kept", 4),
        (BATCH2, "streams", "quarantined", "duplicate_event", 1),
    ]
    assert (
        rows(run_query(con, kpi_lake, "quality_by_batch", Params(date(2025, 1, 1), D1)))[0][0]
        == BATCH1
    )
    assert rows(run_query(con, kpi_lake, "quality_by_batch", Params(date(2030, 1, 1)))) == []
