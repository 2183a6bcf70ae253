"""The shape of generated listening, measured from the CSVs alone (DuckDB and plain Python).

A benchmark-like density (a third of a stream per user and day, 100 songs a genre) should
give sessions, active user-days of several streams, a daily and weekly rhythm, skewed but not
degenerate popularity, and signups before, during and without a date.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from musicstream.generate import generate

SHAPED = {"streams": 60_000, "songs": 2_000, "users": 6_000, "genres": 20, "days": 28}
START = dt.date(2026, 1, 1)  # a Thursday


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Tables ``s`` (u, t, ts, d, g, dur: one per stream) and ``users`` (u, created)."""
    root = tmp_path_factory.mktemp("shape")
    generate(root, start=START, **SHAPED)
    db = duckdb.connect()
    db.execute("set TimeZone = 'UTC'")
    db.execute("create table songs (t varchar, g varchar, dur bigint)")
    db.executemany("insert into songs values (?, ?, ?)", list(_first_rows(root).values()))
    db.execute(f"""create table s as
      select trim(user_id) as u, trim(track_id) as t, listen_time::timestamptz as ts,
        (listen_time::timestamptz)::date as d, g, dur
      from read_csv('{root}/streams/*.csv', all_varchar = true) join songs
        on songs.t = trim(track_id)""")
    db.execute(f"""create table users as
      select trim(user_id) as u, nullif(trim(created_at), '')::timestamptz as created
      from read_csv('{root}/users/users.csv', all_varchar = true)""")
    return db


def _first_rows(root: Path) -> dict[str, list[str | int]]:
    """track_id -> [id, genre, duration] of its first songs.csv row (the one a pipeline keeps)."""
    first: dict[str, list[str | int]] = {}
    with (root / "songs" / "songs.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            song = [row["track_id"], row["track_genre"], int(row["duration_ms"])]
            first.setdefault(row["track_id"], song)
    return first


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def test_all_streams_join_and_stay_in_the_window(con: duckdb.DuckDBPyConnection) -> None:
    n, first, last = one(con, "select count(*), min(d), max(d) from s")
    assert n == SHAPED["streams"]
    assert first == START and last == START + dt.timedelta(days=SHAPED["days"] - 1)


def test_active_user_days_hold_several_streams(con: duckdb.DuckDBPyConnection) -> None:
    per_day, active = one(
        con,
        """select avg(c), avg(users) from (
      select d, count(*) as c, count(distinct u) over (partition by d) as users
      from s group by u, d)""",
    )
    assert per_day >= 6  # sessions, not one stream per user-day
    assert 0.01 * SHAPED["users"] < active < 0.1 * SHAPED["users"]
    most, occasional, listeners = one(
        con,
        """select max(days), avg((days <= 2)::int), count(*)
      from (select u, count(distinct d) as days from s group by u)""",
    )
    assert most >= 0.7 * SHAPED["days"]  # some listen (almost) daily
    assert occasional > 0.3 and listeners > 0.15 * SHAPED["users"]  # many now and then


def test_sessions_step_by_track_duration(con: duckdb.DuckDBPyConnection) -> None:
    pairs, by_duration = one(
        con,
        """select count(*), avg((gap between dur and dur + 60000)::int)
      from (select epoch_ms(ts) - epoch_ms(lag(ts) over w) as gap, lag(dur) over w as dur
        from s window w as (partition by u, d order by ts))
      where gap is not null""",
    )
    assert pairs > 0.8 * SHAPED["streams"]
    assert by_duration > 0.7  # the next track starts as the previous one ends (+ a gap)
    (share,) = one(
        con,
        """select avg(top) from (select max(c) / sum(c) as top
      from (select u, d, g, count(*) as c from s group by all) group by u, d)""",
    )
    assert share > 0.4  # a user-day mostly stays in one genre


def test_popularity_is_skewed_not_degenerate(con: duckdb.DuckDBPyConnection) -> None:
    top, worst = one(
        con,
        """select sum(top) / sum(plays), max(top / plays) from (
      select g, max(c) as top, sum(c) as plays
      from (select g, t, count(*) as c from s group by g, t) group by g)""",
    )
    assert 0.02 < top < 0.15  # the top track of a genre: a few percent of its plays
    assert worst < 0.5
    busiest, quietest = one(con, "select max(c), min(c) from (select count(*) c from s group by g)")
    assert busiest > 3 * quietest  # genres differ in popularity too


def test_daily_and_weekly_rhythm(con: duckdb.DuckDBPyConnection) -> None:
    hours = dict(con.execute("select hour(ts), count(*) from s group by 1").fetchall())
    assert max(hours, key=hours.__getitem__) in range(18, 24)  # evening peak
    assert min(hours, key=hours.__getitem__) in range(1, 8)  # night trough
    # share of a day's streams after midnight / in the morning, weekdays vs weekends
    (weekday_night, weekday_morning), (weekend_night, weekend_morning) = con.execute("""
      select avg((hour(ts) < 3)::int), avg((hour(ts) between 7 and 8)::int)
      from s group by isodow(ts) >= 6 order by isodow(ts) >= 6""").fetchall()
    assert weekend_night > 1.15 * weekday_night  # weekends run late
    assert weekday_morning > 1.3 * weekend_morning  # weekdays start early


def test_signups_before_during_and_unknown(con: duckdb.DuckDBPyConnection) -> None:
    end = START + dt.timedelta(days=SHAPED["days"])
    during, before, unknown = one(
        con,
        f"""select avg((created >= '{START}'
        and created < '{end}')::int), avg((created < '{START}')::int), avg((created is null)::int)
      from users""",
    )
    assert during > 0.2 and before > 0.2 and 0 < unknown < 0.1
    weekly = con.execute("""select date_trunc('week', d) as w, count(distinct u)
      from s join users using (u) where date_trunc('week', created) = date_trunc('week', d)
      group by w order by w""").fetchall()
    assert len(weekly) >= 4 and len({n for _, n in weekly}) > 1  # new listeners every week
    (days,) = one(
        con, "select count(distinct d) from s join users using (u) where created::date = d"
    )
    assert days > SHAPED["days"] / 2
