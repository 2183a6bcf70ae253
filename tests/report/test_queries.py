"""The analyst queries on the fixture lake: hand-computed answers, and the same answer as a
hand-written DuckDB query (DuckDB idioms, report_date read as a DATE) for every query.

The listener queries (user_daily, hourly_activity, active_listeners) run on a lake of their
own, built below from one small story of streams whose every number is worked out by hand.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
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


# -- the listener tables ---------------------------------------------------------------------
#
# Five listeners, four days: Mon 2026-01-05, Tue 01-06, Mon 01-12 (January) and Mon 02-02
# (February). created_at: u1 2025-12-01 (never new here), u2 01-05, u3 01-06, u4 none (never
# new), u5 02-02. Per day, user_daily sums to hourly_activity, and both to the day rows of
# active_listeners:
#   01-05  u1 3 plays 600k ms at 08h; u2 2 plays 300k at 21h           -> 5 plays, 900k
#   01-06  u1 1 play 200k at 08h; u3 1 play 150k at 08h, 2 plays 300k at 22h -> 4, 650k
#   01-12  u2 4 plays 480k and u4 2 plays 240k at 08h; u3 1 play 60k at 23h -> 7, 780k
#   02-02  u1 2 plays 400k and u5 2 plays 240k at 21h                   -> 4, 640k
J5, J6, J12, F2 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 12), date(2026, 2, 2)
JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)
USER_DAILY = {  # user_id, listen_count, unique_tracks, total_listening_ms, top_genre
    J5: [("u1", 3, 2, 600_000, "rock"), ("u2", 2, 1, 300_000, "pop")],
    J6: [("u1", 1, 1, 200_000, "rock"), ("u3", 3, 2, 450_000, "pop")],
    J12: [
        ("u2", 4, 2, 480_000, "pop"),
        ("u3", 1, 1, 60_000, "folk"),
        ("u4", 2, 1, 240_000, "jazz"),
    ],
    F2: [("u1", 2, 2, 400_000, "rock"), ("u5", 2, 2, 240_000, "jazz")],
}
HOURLY = {  # hour, listen_count, unique_listeners, total_listening_ms
    J5: [(8, 3, 1, 600_000), (21, 2, 1, 300_000)],
    J6: [(8, 2, 2, 350_000), (22, 2, 1, 300_000)],
    J12: [(8, 6, 2, 720_000), (23, 1, 1, 60_000)],
    F2: [(21, 4, 2, 640_000)],
}
ACTIVE = {  # (period, period_start): period_end, listeners, new, listen_count, ms
    ("day", J5): (J5, 2, 1, 5, 900_000),  # u1 u2; u2 signed up that day
    ("day", J6): (J6, 2, 1, 4, 650_000),  # u1 u3; u3 new
    ("day", J12): (J12, 3, 0, 7, 780_000),  # u2 u3 u4
    ("day", F2): (F2, 2, 1, 4, 640_000),  # u1 u5; u5 new
    ("week", J5): (date(2026, 1, 11), 3, 2, 9, 1_550_000),  # u1 u2 u3; u2 u3 new
    ("week", J12): (date(2026, 1, 18), 3, 0, 7, 780_000),
    ("week", F2): (date(2026, 2, 8), 2, 1, 4, 640_000),
    ("month", JAN): (date(2026, 1, 31), 4, 2, 16, 2_330_000),  # u1..u4; u2 u3 new
    ("month", FEB): (date(2026, 2, 28), 2, 1, 4, 640_000),
}
BIG, INT = pa.int64(), pa.int32()
LISTENER_SCHEMAS: dict[str, pa.Schema] = {
    "user_daily": pa.schema(
        [
            ("user_id", pa.string()),
            ("listen_count", BIG),
            ("unique_tracks", BIG),
            ("total_listening_ms", BIG),
            ("top_genre", pa.string()),
        ]
    ),
    "hourly_activity": pa.schema(
        [
            ("hour", INT),
            ("listen_count", BIG),
            ("unique_listeners", BIG),
            ("total_listening_ms", BIG),
        ]
    ),
    "active_listeners": pa.schema(
        [
            ("period_end", pa.date32()),
            ("listeners", BIG),
            ("new_listeners", BIG),
            ("listen_count", BIG),
            ("total_listening_ms", BIG),
        ]
    ),
}


def _write(path: Path, table: str, rows: list[tuple[Any, ...]]) -> None:
    """One data.parquet of ``table`` with exactly the contract's column types."""
    path.mkdir(parents=True, exist_ok=True)
    schema = LISTENER_SCHEMAS[table]
    columns = {name: [r[i] for r in rows] for i, name in enumerate(schema.names)}
    pq.write_table(pa.table(columns, schema=schema), path / "data.parquet")


def build_listener_tables(root: Path) -> Path:
    """Write the three listener tables under the lake ``root`` (SPEC §4 layout)."""
    kpis = root / "kpis"
    for day, rows in USER_DAILY.items():
        _write(kpis / "user_daily" / f"report_date={day}", "user_daily", rows)
    for day, rows in HOURLY.items():
        _write(kpis / "hourly_activity" / f"report_date={day}", "hourly_activity", rows)
    for (period, start), row in ACTIVE.items():
        folder = kpis / "active_listeners" / f"period={period}" / f"period_start={start}"
        _write(folder, "active_listeners", [row])
    return root


@pytest.fixture(scope="module")
def listener_lake(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_listener_tables(tmp_path_factory.mktemp("listeners")))


def test_user_activity_trend_fills_silent_days_with_zeros(
    con: duckdb.DuckDBPyConnection, listener_lake: str
) -> None:
    got = rows(run_query(con, listener_lake, "user_activity_trend", Params(user_id="u2")))
    assert got == [
        ("u2", J5, 2, 1, 300_000, "pop", 2, 300_000),
        ("u2", J6, 0, 0, 0, None, 2, 300_000),  # a day with data, u2 silent
        ("u2", J12, 4, 2, 480_000, "pop", 6, 780_000),
        ("u2", F2, 0, 0, 0, None, 6, 780_000),
    ]


def test_user_activity_trend_in_a_period(
    con: duckdb.DuckDBPyConnection, listener_lake: str
) -> None:
    got = rows(run_query(con, listener_lake, "user_activity_trend", Params(J6, J12, user_id="u2")))
    assert got == [("u2", J6, 0, 0, 0, None, 0, 0), ("u2", J12, 4, 2, 480_000, "pop", 4, 480_000)]
    nobody = Params(user_id="u9")
    assert rows(run_query(con, listener_lake, "user_activity_trend", nobody)) == []


def test_user_activity_trend_without_a_user_lists_every_listener(
    con: duckdb.DuckDBPyConnection, listener_lake: str
) -> None:
    got = rows(run_query(con, listener_lake, "user_activity_trend"))
    assert len(got) == 5 * 4  # every listener on every day with data
    assert [r[0] for r in got[::4]] == ["u1", "u2", "u3", "u4", "u5"]
    assert got[:4] == [
        ("u1", J5, 3, 2, 600_000, "rock", 3, 600_000),
        ("u1", J6, 1, 1, 200_000, "rock", 4, 800_000),
        ("u1", J12, 0, 0, 0, None, 4, 800_000),
        ("u1", F2, 2, 2, 400_000, "rock", 6, 1_200_000),
    ]


def test_active_listeners_weekly(con: duckdb.DuckDBPyConnection, listener_lake: str) -> None:
    got = rows(run_query(con, listener_lake, "active_listeners_weekly"))
    assert same(
        got,
        [  # week_start, week_end, listeners, new, returning, new_share, plays, ms
            (J5, date(2026, 1, 11), 3, 2, 1, 2 / 3, 9, 1_550_000),
            (J12, date(2026, 1, 18), 3, 0, 3, 0.0, 7, 780_000),
            (F2, date(2026, 2, 8), 2, 1, 1, 0.5, 4, 640_000),
        ],
    )


def test_active_listeners_weekly_lists_the_weeks_overlapping_the_period(
    con: duckdb.DuckDBPyConnection, listener_lake: str
) -> None:
    weeks = run_query(con, listener_lake, "active_listeners_weekly", Params(J6, date(2026, 1, 31)))
    assert weeks.column("week_start").to_pylist() == [J5, J12]  # J5's week holds 01-06
    before = Params(date(2025, 12, 1), date(2026, 1, 4))
    assert run_query(con, listener_lake, "active_listeners_weekly", before).num_rows == 0


def test_active_listeners_monthly(con: duckdb.DuckDBPyConnection, listener_lake: str) -> None:
    got = rows(run_query(con, listener_lake, "active_listeners_monthly"))
    assert same(
        got,
        [
            (JAN, date(2026, 1, 31), 4, 2, 2, 0.5, 16, 2_330_000),
            (FEB, date(2026, 2, 28), 2, 1, 1, 0.5, 4, 640_000),
        ],
    )
    mid_january = Params(date(2026, 1, 15), date(2026, 1, 20))
    got = run_query(con, listener_lake, "active_listeners_monthly", mid_january)
    assert got.column("month_start").to_pylist() == [JAN]


def test_dau_mau_stickiness(con: duckdb.DuckDBPyConnection, listener_lake: str) -> None:
    got = rows(run_query(con, listener_lake, "dau_mau_stickiness"))
    average = (2 / 4 + 2 / 4 + 3 / 4 + 2 / 2) / 4
    assert same(
        got,
        [
            (J5, 2, 4, 0.5, average),
            (J6, 2, 4, 0.5, average),
            (J12, 3, 4, 0.75, average),
            (F2, 2, 2, 1.0, average),  # February's MAU: u1 and u5
        ],
    )
    assert average == 0.6875


def test_dau_mau_stickiness_uses_the_whole_month_of_a_day_in_the_period(
    con: duckdb.DuckDBPyConnection, listener_lake: str
) -> None:
    got = rows(run_query(con, listener_lake, "dau_mau_stickiness", Params(J6, J12)))
    assert same(got, [(J6, 2, 4, 0.5, 0.625), (J12, 3, 4, 0.75, 0.625)])


def test_hourly_heatmap(con: duckdb.DuckDBPyConnection, listener_lake: str) -> None:
    got = rows(run_query(con, listener_lake, "hourly_heatmap"))
    assert same(
        got,
        [  # weekday, name, hour, plays, ms, days of that weekday with data, plays per such day
            (1, "mon", 8, 3 + 6, 1_320_000, 3, 3.0),  # Mondays: 01-05, 01-12, 02-02
            (1, "mon", 21, 2 + 4, 940_000, 3, 2.0),
            (1, "mon", 23, 1, 60_000, 3, 1 / 3),
            (2, "tue", 8, 2, 350_000, 1, 2.0),
            (2, "tue", 22, 2, 300_000, 1, 2.0),
        ],
    )
    expected = con.execute(
        f"""select isodow(report_date::date) as wd, hour, sum(listen_count)::bigint,
                   sum(total_listening_ms)::bigint
            from read_parquet('{listener_lake}/kpis/hourly_activity/*/*.parquet')
            group by all order by wd, hour"""
    ).fetchall()
    assert [(r[0], r[2], r[3], r[4]) for r in got] == expected


def test_hourly_heatmap_in_a_period(con: duckdb.DuckDBPyConnection, listener_lake: str) -> None:
    got = rows(run_query(con, listener_lake, "hourly_heatmap", Params(J12, J12)))
    assert same(got, [(1, "mon", 8, 6, 720_000, 1, 6.0), (1, "mon", 23, 1, 60_000, 1, 1.0)])


def test_top_listeners(con: duckdb.DuckDBPyConnection, listener_lake: str) -> None:
    got = rows(run_query(con, listener_lake, "top_listeners"))
    assert same(
        got,
        [  # rank, user, plays, ms, active days, share of the period's 20 plays
            (1, "u1", 6, 1_200_000, 3, 6 / 20),
            (2, "u2", 6, 780_000, 2, 6 / 20),  # ties on plays: more listening time first
            (3, "u3", 4, 510_000, 2, 4 / 20),
            (4, "u4", 2, 240_000, 1, 2 / 20),  # ties on plays and time: user id
            (5, "u5", 2, 240_000, 1, 2 / 20),
        ],
    )


def test_top_listeners_in_a_period(con: duckdb.DuckDBPyConnection, listener_lake: str) -> None:
    got = rows(run_query(con, listener_lake, "top_listeners", Params(J5, J6, top_n=2)))
    assert same(got, [(1, "u1", 4, 800_000, 2, 4 / 9), (2, "u3", 3, 450_000, 1, 3 / 9)])
