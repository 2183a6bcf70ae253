"""Listening sessions: the base stream events of a range of stream rows, built as a table.

Streams come in *sessions*: runs of consecutive rows by one user, one track after another.
Every attribute is a seeded hash of a session number or a row number, so the same arguments
give the same rows whatever the thread count.

- **Who**: user activity (sessions a day) is heavy-tailed: ``PEAK_SESSIONS`` for the most
  active users, then falling as a power of the user's activity rank (``ACTIVITY_TAIL``), scaled
  so the total matches the streams per user-day the ``Shape`` asks for; ranks are scattered over
  the user numbers. At the benchmark's 1/3 stream per user-day that gives ~3% of the users
  active on a day with ~11 streams each (mean; median 8), ~30% active in a 30-day window, a few
  listening daily and most of those active on one or two days only.
- **When**: the day by ``vocab.WEEKDAY_WEIGHTS`` (busier Friday to Sunday), the start hour from
  the weekday or weekend profile of ``vocab`` (night trough, evening peak; weekends start late).
- **How long**: a geometric number of tracks, mean ``SESSION_TRACKS``. Sessions are laid end to
  end in row order until the requested rows are covered, so the row count is exact (the last
  session is cut) and a session's rows are adjacent in the files.
- **What**: a session has a genre (half the time its user's favourite); a track stays in it with
  probability ``STAY``, else comes from any genre. Genres are Zipf-popular (``GENRE_ZIPF``) and so
  are tracks within a genre's block of song rows (``TRACK_ZIPF``): the top track takes a few
  percent of its genre's plays (~2% with 1000 songs a genre, ~6% with 100), not most of them.
- **Timing**: each track starts when the previous one ends (its full duration) plus a gap of a
  few seconds, sometimes a pause of minutes, in whole seconds (3% of the rows get milliseconds).
  The rare tail of a session running past the window's end moves back a day.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import duckdb

from musicstream.generate import vocab
from musicstream.generate.sqlkit import scalar, set_variable

SESSION_TRACKS = 8.0  # mean tracks per session (geometric, at least one)
MAX_TRACKS = 200  # a session's length is capped here
PEAK_SESSIONS = 3.0  # sessions a day of the most active users
ACTIVITY_TAIL = 1.2  # user activity falls as rank ** -ACTIVITY_TAIL (a Pareto tail)
FAVOURITE, STAY = 0.5, 0.7  # session genre = the user's favourite; a track keeps the genre
GENRE_ZIPF, TRACK_ZIPF = 0.6, 0.6  # popularity exponents across genres, within a genre
GAP_MS, PAUSE_SHARE, PAUSE_MS = 5_000, 0.05, 900_000  # between tracks: gap, or a pause
DAY_MS = 86_400_000

_MACROS = """
create or replace macro zipf(v, n, s) as
  least(n - 1, floor(pow(1 + v * (pow(n + 1, 1 - s) - 1), 1 / (1 - s)))::bigint - 1);
create or replace macro block_start(g, n, k) as (g * n + k - 1) // k;
"""


@dataclass(frozen=True)
class Shape:
    """Where base events point and when they happen.

    ``users`` user numbers, ``tracks`` song rows in ``genres`` equal blocks (the layout of
    songs.csv), ``days`` from ``start_ms``. ``density`` is the streams per user-day the user
    activity is shaped for (0: the rows' own, i.e. rows / (users * days)).
    """

    users: int
    tracks: int
    days: int
    start_ms: int
    genres: int = 1
    density: float = 0.0


def create_base(
    con: duckdb.DuckDBPyConnection, table: str, shape: Shape, rows: tuple[int, int], duration: str
) -> None:
    """Table ``table`` (i, j, uidx, tkey, ts_ms, style, off, p) for rows ``lo..hi-1``.

    ``j`` is the session, ``tkey`` the track key of the picked song row (macro ``song_key``),
    ``duration`` the SQL of that track's duration in terms of ``tkey``; ``style``/``off``/``p``
    pick the listen_time format and the ms_played shape per row.
    """
    lo, hi = rows
    n = hi - lo
    con.execute(_MACROS)
    _set_days(con, shape)
    sessions = math.ceil(n / SESSION_TRACKS * 1.25) + 8
    while True:  # enough sessions to cover the rows (almost always the first try)
        con.execute(f"""create or replace temp table gen_sessions as
          {_sessions_sql(shape, n, lo, sessions)} order by j""")
        if scalar(con, "select max(start + len) from gen_sessions") >= n:
            break
        sessions *= 2
    # running sums in scan order are cheap (a streaming window); the scan is in row order
    # unless DuckDB reorders, which the row numbers reveal: then sort (slow, same result)
    for frame in ("", "order by i "):
        over = f"over ({frame}rows between unbounded preceding and current row)"
        con.execute(f"create or replace table {table} as {_rows_sql(shape, n, lo, duration, over)}")
        if not scalar(con, f"select count(*) from {table} where misplaced > 0"):
            break
    con.execute(f"alter table {table} drop column misplaced")
    con.execute("drop table gen_sessions")


def _set_days(con: duckdb.DuckDBPyConnection, shape: Shape) -> None:
    """Session variables ``day_slots`` (day draw by weekday weight) and ``weekend_days``."""
    first = dt.date(1970, 1, 1) + dt.timedelta(days=shape.start_ms // DAY_MS)
    weekdays = [(first + dt.timedelta(days=d)).weekday() for d in range(shape.days)]
    weights = [vocab.WEEKDAY_WEIGHTS[w] for w in weekdays]
    set_variable(con, "day_slots", vocab.weighted_slots(weights, max(1000, 20 * shape.days)))
    set_variable(con, "weekend_days", [int(w >= 5) for w in weekdays])


def _user_position(shape: Shape, n: int, v: str) -> str:
    """SQL of a session's user position ``q`` in [0, 1) (0 = most active) for uniform ``v``.

    User activity (sessions a day) is ``PEAK_SESSIONS`` up to position ``q0``, then falls as
    ``(q / q0) ** -ACTIVITY_TAIL``; ``q0`` makes the mean match the density asked for. A
    session's position is drawn in proportion to that activity (inverse CDF); too dense a
    shape gives every user the same activity.
    """
    density = shape.density or n / (shape.users * shape.days)
    mean, peak, a = density / SESSION_TRACKS, PEAK_SESSIONS, ACTIVITY_TAIL
    if mean >= peak:
        return v
    lo, hi = 0.0, 1.0
    for _ in range(60):  # mean activity grows with q0: bisect
        q0 = (lo + hi) / 2
        lo, hi = (q0, hi) if peak * (q0 + (q0 - q0**a) / (a - 1)) < mean else (lo, q0)
    flat = peak * q0 / mean  # share of the sessions by the most active users
    slope = mean * (1 - a) / (peak * q0**a)
    tail = f"pow({q0 ** (1 - a)!r} + ({v} - {flat!r}) * {slope!r}, {1 / (1 - a)!r})"
    return f"case when {v} < {flat!r} then {v} * {q0 / flat!r} else {tail} end"


def _sessions_sql(shape: Shape, n: int, lo: int, count: int) -> str:
    """Sessions ``0..count-1`` that start before row ``n``: length, first row, who, when, genre."""
    users, slots = shape.users, max(1000, 20 * shape.days)
    hour = "getvariable('{}')[1 + rint(sk, 'sh', 1000)]::bigint"
    return f"""
    with s as (
      select j, {lo} + j as sk,
        least({MAX_TRACKS}, 1 + floor(-ln(1 - rnd({lo} + j, 'slen')) * {SESSION_TRACKS - 0.5}))
          ::bigint as len
      from range({count}) r(j)
    ), c as (
      select *, (sum(len) over (order by j rows between unbounded preceding and current row)
          - len)::bigint as start,
        (least({users - 1}, floor({users} * {_user_position(shape, n, "rnd(sk, 'su')")}))::bigint
          * {_coprime(users)}) % {users} as uidx,
        getvariable('day_slots')[1 + rint(sk, 'sd', {slots})]::bigint as day
      from s
    )
    select j, len, start, uidx,
      day * {DAY_MS} + rint(sk, 'ss', 3600) * 1000 + 3600000 * case
        when getvariable('weekend_days')[day + 1] = 1 then {hour.format("weekend_hour_slots")}
        else {hour.format("hour_slots")} end as start_rel,
      case when rnd(sk, 'sf') < {FAVOURITE} then {_genre(shape, "rnd(uidx, 'fav')")}
        else {_genre(shape, "rnd(sk, 'sg')")} end as genre
    from c where start < {n}"""


def _rows_sql(shape: Shape, n: int, lo: int, duration: str, over: str) -> str:
    """One row per stream of the sessions: track and gap, then listen_time from running sums
    ``over`` the rows in order (the steps before a row minus those before its session)."""
    window = shape.days * DAY_MS
    return f"""
    with r as (
      select j, {lo} + start + k as i, k, uidx, start_rel, genre
      from (select *, unnest(range(len)) as k from gen_sessions) where start + k < {n}
    ), t as (
      select i, j, k, uidx, start_rel, tkey, {duration} + case
          when rnd(i, 'pause') < {PAUSE_SHARE} then rint(i, 'pm', {PAUSE_MS})
          else rint(i, 'gap', {GAP_MS}) end as step
      from (select *, song_key({_song_row(shape)}) as tkey
        from (select *, case when rnd(i, 'stay') < {STAY} then genre
          else {_genre(shape, "rnd(i, 'g')")} end as g from r))
    ), c as (
      select *, (sum(step) {over} - step)::bigint as before, row_number() {over} - 1 as rn
      from t
    ), s as (
      select *, max(case when k = 0 then before else 0 end) {over} as first,
        row_number() {over} - 1 as rn2
      from c
    )
    select i, j::integer as j, uidx::integer as uidx, tkey::integer as tkey,
      {shape.start_ms} + case when rnd(i, 'f') < 0.03 then 1 + rint(i, 'ms', 999) else 0 end
        + (case when rel < {window} then rel else rel - {DAY_MS} end) % {window} // 1000 * 1000
        as ts_ms,
      case when rnd(i, 'st') < 0.85 then 0 when rnd(i, 'st') < 0.93 then 1 else 2 end
        ::utinyint as style,
      pick(getvariable('offsets'), i, 'off')::smallint as off, rnd(i, 'p')::float as p,
      greatest(abs(rn - i + {lo}), abs(rn2 - i + {lo})) as misplaced
    from (select *, start_rel + before - first as rel from s)"""


def _genre(shape: Shape, v: str) -> str:
    """Genre block (0-based) for uniform ``v``: Zipf over blocks, ranks scattered."""
    blocks = _blocks(shape)
    return f"(zipf({v}, {blocks}, {GENRE_ZIPF}) * {_coprime(blocks)}) % {blocks}"


def _song_row(shape: Shape) -> str:
    """Song row of block ``g``: Zipf rank within the block, scattered by a per-block offset."""
    s, k = shape.tracks, _blocks(shape)
    size = f"(block_start(g + 1, {s}, {k}) - block_start(g, {s}, {k}))"
    return f"""block_start(g, {s}, {k})
      + (zipf(rnd(i, 'r'), {size}, {TRACK_ZIPF}) * {_coprime(s)} + rint(g, 'boff', {size}))
        % {size}"""


def _blocks(shape: Shape) -> int:
    """Genre blocks of the song rows (never more blocks than rows)."""
    return max(1, min(shape.genres, shape.tracks))


def _coprime(n: int) -> int:
    """A prime multiplier that permutes 0..n-1 (any prime above n is coprime to it)."""
    return next(p for p in (1_000_003, 2_147_483_647) if p > n)


def fix_collisions(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Move rows so no (user, track, listen_time) occurs twice in ``table``.

    Two sessions of one user can, rarely, play the same track at the same instant; clean data
    must hold no duplicate events, so each later copy (by row) moves 1 ms, 2 ms, … later (off
    the whole seconds most listen_times fall on, so one round almost always settles it). One
    pass over a hash of the event finds the few (user, track) pairs to look at.
    """
    con.execute(f"""create or replace temp table gen_pairs as
      select distinct uidx, tkey from {table} where hash(uidx, tkey, ts_ms) in (
        select h from (select hash(uidx, tkey, ts_ms) as h from {table})
        group by h having count(*) > 1)""")
    rows = f"{table} semi join gen_pairs using (uidx, tkey)"
    for _ in range(20):
        moved = con.execute(f"""update {table} set ts_ms = {table}.ts_ms + m.k from (
            select i, row_number() over (partition by uidx, tkey, ts_ms order by i) - 1 as k
            from {rows}) m
          where {table}.i = m.i and m.k > 0""").fetchone()
        if not moved or not moved[0]:
            con.execute("drop table gen_pairs")
            return
    raise RuntimeError("could not make stream events unique")
