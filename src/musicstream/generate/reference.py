"""Read an already generated landing zone back: its valid tracks, users and stream events.

``generate_increment`` builds its batch relative to these, so it works on any landing zone
in the SPEC §2 layout, not only one this package wrote. "Valid" is judged conservatively (a
key with any bad or repeated row is left out) so what the increment calls late, duplicate or
changed is exactly that for the pipeline too.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from dataclasses import dataclass
from pathlib import Path

import duckdb

from musicstream.generate.sqlkit import scalar
from musicstream.sqltext import literal

STREAM_REQUIRED = ("user_id", "track_id", "listen_time")


@dataclass(frozen=True)
class Reference:
    """What the increment needs to know about the reference beyond its tables."""

    first_day: dt.date
    last_day: dt.date
    tracks: int
    users: int
    max_user_id: int
    has_ms_played: bool


def load_reference(con: duckdb.DuckDBPyConnection, root: Path) -> Reference:
    """Tables ``ref_songs``, ``ref_users``, ``ref_events`` from the landing zone at ``root``."""
    songs = _union(con, root / "songs", ("track_id", "track_genre", "duration_ms"))
    users = _union(con, root / "users", ("user_id",))
    events = _union(con, root / "streams", STREAM_REQUIRED)
    con.execute(f"create or replace table ref_song_rows as {songs}")
    con.execute(f"create or replace table ref_user_rows as {users}")
    con.execute(f"create or replace table ref_stream_rows as {events}")
    con.execute(_REF_SONGS)
    con.execute(_REF_USERS)
    has_ms = "ms_played" in _columns(con, "ref_stream_rows")
    con.execute(_ref_events(has_ms))
    days = con.execute(
        "select min(epoch_ms(ts_ms)::date), max(epoch_ms(ts_ms)::date) from ref_events"
    ).fetchone()
    if not days or days[0] is None:
        raise ValueError(f"no valid stream events under {root}")
    return Reference(
        first_day=days[0],
        last_day=days[1],
        tracks=scalar(con, "select count(*) from ref_songs"),
        users=scalar(con, "select count(*) from ref_users"),
        max_user_id=scalar(con, "select max(try_cast(user_id as bigint)) from ref_user_rows"),
        has_ms_played=has_ms,
    )


_REF_SONGS = """create or replace table ref_songs as
  select trim(track_id) as track_id, list(distinct trim(track_genre)) as genres,
    min(try_cast(duration_ms as bigint)) as dur, any_value(columns(* exclude (track_id)))
  from ref_song_rows where nullif(trim(track_id), '') is not null
  group by trim(track_id)
  having bool_and(nullif(trim(track_genre), '') is not null
    and coalesce(try_cast(duration_ms as bigint) between 1 and 86400000, false)
    and (popularity is null or coalesce(try_cast(popularity as bigint) between 0 and 100, false))
    and (explicit is null or trim(explicit) in ('True', 'False', 'true', 'false', '1', '0')))"""

_REF_USERS = """create or replace table ref_users as
  select trim(user_id) as user_id, any_value(columns(* exclude (user_id)))
  from ref_user_rows where nullif(trim(user_id), '') is not null
  group by trim(user_id)
  having count(*) = 1 and bool_and(user_age is null
      or coalesce(try_cast(user_age as bigint) between 13 and 120, false))
    and bool_and(created_at is null or try_cast(trim(created_at) as timestamptz) is not null)"""


def _ref_events(has_ms: bool) -> str:
    """Valid reference streams as (user_id, track_id, ts_ms, raw listen_time, ms_played)."""
    ms = "ms_played" if has_ms else "null::varchar"
    ok_ms = f"({ms} is null or coalesce(try_cast({ms} as bigint) between 0 and 86400000, false))"
    return f"""create or replace table ref_events as
      select distinct on (user_id, track_id, ts_ms) user_id, track_id, ts_ms, raw_time, ms
      from (
        select trim(s.user_id) as user_id, trim(s.track_id) as track_id,
          epoch_ms(try_cast(trim(listen_time) as timestamptz)) as ts_ms,
          trim(listen_time) as raw_time, {ms} as ms, {ok_ms} as ok
        from ref_stream_rows s
        semi join ref_users u on u.user_id = trim(s.user_id)
        semi join ref_songs t on t.track_id = trim(s.track_id)
      )
      where ok and ts_ms is not null and ts_ms <= epoch_ms(now()) + 3600000
      order by user_id, track_id, ts_ms, raw_time"""


def _union(con: duckdb.DuckDBPyConnection, folder: Path, required: tuple[str, ...]) -> str:
    """One all-VARCHAR relation over every CSV under ``folder`` holding the required columns.

    Headers are matched as SPEC §2 says (trimmed, case-insensitive, any order, optional BOM,
    optional gzip); files lacking a required column and malformed rows are skipped.
    """
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.name.endswith((".csv", ".csv.gz"))):
        names = _header(path)
        if not set(required) <= set(names):
            continue
        columns = ", ".join(f"'c{k}': 'VARCHAR'" for k in range(len(names)))
        picks = ", ".join(f'c{k} as "{n}"' for k, n in enumerate(names) if n and n not in names[:k])
        # store_rejects, not ignore_errors: with explicit columns + strict mode, DuckDB 1.5's
        # ignore_errors alone also dropped most *valid* rows of a file holding malformed ones
        parts.append(f"""select {picks} from read_csv({literal(path)}, header = false, skip = 1,
          auto_detect = false, columns = {{{columns}}}, delim = ',', quote = '"', escape = '"',
          strict_mode = true, store_rejects = true)""")
    if not parts:
        raise ValueError(f"no usable CSV file under {folder}")
    return " union all by name ".join(f"({p})" for p in parts)


def _header(path: Path) -> list[str]:
    """The normalised column names of a CSV file (BOM and gzip handled)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        first = next(csv.reader(handle), [])
    return [name.strip().lower() for name in first]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"describe {table}").fetchall()]
