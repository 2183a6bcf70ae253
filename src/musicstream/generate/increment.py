"""``generate_increment``: a second landing batch relative to an already generated one.

Of ``streams`` rows: 40% are *late* (listen_time on days the reference already covers),
10% exact *duplicates* of valid reference events (same user, track and UTC instant, written
in another timestamp format), the rest *new* events on the day after the reference window
(about 10% of their sessions by new users, 10% of their tracks new). Late and new streams are
listening sessions like ``generate``'s (``sessions``), with user activity shaped for the
reference's streams per user-day. The dimension files are deltas: a few existing tracks moved
to a genre they never had plus new tracks; a few users moved to another country plus new
users. Counts: ``reference.tracks // 500`` genre changes and new tracks, ``users // 500``
country changes, ``users // 200`` new users (each 1..20, new users 1..50).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from musicstream.generate import songs as song_gen
from musicstream.generate import streams as stream_gen
from musicstream.generate import users as user_gen
from musicstream.generate.initial import epoch_ms
from musicstream.generate.reference import Reference, load_reference
from musicstream.generate.sessions import Shape, create_base
from musicstream.generate.sqlkit import connect, copy_lines, scalar
from musicstream.generate.summary import GenerateSummary

LATE_SHARE, DUP_SHARE, NEW_ENTITY_SHARE = 0.4, 0.1, 0.1
NEW_TRACK_BASE = 10**9  # track keys of new tracks, far from any reference row number


def generate_increment(
    out_dir: str | Path,
    reference_dir: str | Path,
    *,
    streams: int = 5_000,
    seed: int = 7,
    dirty: float = 0.0,
    ms_played: bool | None = None,
    threads: int | None = None,
) -> GenerateSummary:
    """Write a fresh landing batch into ``out_dir`` relative to the one in ``reference_dir``.

    ``dirty`` corrupts the late and new streams as ``generate`` does (bad files are not
    repeated). ``ms_played`` defaults to whether the reference streams have that column.
    Other files already in ``out_dir`` are left alone (a landing zone may hold more batches).
    """
    if streams < 10 or not 0.0 <= dirty <= 1.0:
        raise ValueError("an increment needs streams >= 10 and 0 <= dirty <= 1")
    out = Path(out_dir)
    con = connect(seed, threads)
    try:
        ref = load_reference(con, Path(reference_dir))
        con.execute("create or replace macro song_key(r) as r")
        extras = _write_songs(con, out / "songs" / "songs-increment.csv", ref)
        extras |= _write_users(con, out / "users" / "users-increment.csv", ref)
        with_ms = ref.has_ms_played if ms_played is None else ms_played
        injected, more = _write_streams(
            con, out / "streams" / "streams-increment.csv", ref, streams, dirty, with_ms
        )
    finally:
        con.close()
    return _summary(out, streams, injected, extras | more)


def _summary(
    out: Path, streams: int, injected: dict[str, int], extras: dict[str, int]
) -> GenerateSummary:
    """The increment's summary: one file per dataset, delta row counts, late/new/changed."""
    names = ("songs", "users", "streams")
    return GenerateSummary(
        out_dir=out,
        files={name: (out / name / f"{name}-increment.csv",) for name in names},
        rows={
            "songs": extras["genre_changes"] + extras["new_tracks"],
            "users": extras["country_changes"] + extras["new_users"],
            "streams": streams,
        },
        injected={"songs": {}, "users": {}, "streams": injected},
        extras=extras,
    )


def _few(total: int, per: int, cap: int) -> int:
    """``total // per`` clamped to 1..cap: "a few" that grows with the reference."""
    return max(1, min(cap, total // per))


def _write_songs(con: duckdb.DuckDBPyConnection, path: Path, ref: Reference) -> dict[str, int]:
    """Delta songs file: tracks moved to a new genre, then new tracks; builds ``inc_tracks``."""
    changes, new = _few(ref.tracks, 500, 20), _few(ref.tracks, 500, 20)
    song_gen.install_macros(con)
    con.execute("""set variable genres = (select list(distinct g order by g)
      from (select unnest(genres) as g from ref_songs))""")
    con.execute(f"create or replace table inc_songs as {_songs_sql(con, changes, new)}")
    if scalar(
        con, "select count(*) from inc_songs semi join ref_songs using (track_id) where t > 0"
    ):
        raise RuntimeError("a new track id collides with a reference track id")
    line = song_gen.song_line("(row_number() over (order by ord) - 1)::varchar")
    copy_lines(con, f"select {line} as line from inc_songs order by ord", song_gen.HEADER, path)
    con.execute(f"""create or replace table inc_tracks as
      select row_number() over (order by list_min(genres), track_id) - 1 as k, track_id, dur
      from ref_songs
      union all select {ref.tracks} + t - {NEW_TRACK_BASE}, track_id, duration::bigint
      from inc_songs where t > 0""")
    moved = scalar(con, "select count(*) from inc_songs where t = 0")
    return {"genre_changes": moved, "new_tracks": new}


def _songs_sql(con: duckdb.DuckDBPyConnection, changes: int, new: int) -> str:
    """Changed rows (a genre the track never had) then new tracks, in file order ``ord``."""
    return f"""
      with picked as (
        select *, row_number() over (order by mix(hash(track_id), 'regenre'), track_id) as k,
          list_filter(getvariable('genres'), lambda g: not list_contains(genres, g)) as other
        from ref_songs
        qualify k <= {changes} and len(other) > 0
      )
      select k as ord, 0 as t, track_id, {_ref_song_cols(con)},
        other[1 + rint(k, 'newgenre', len(other))] as genre
      from picked
      union all
      select {changes} + 1 + t - {NEW_TRACK_BASE} as ord, t,
        {song_gen.song_fields("t", "pick(getvariable('genres'), t, 'ng')", 1000)}
      from range({NEW_TRACK_BASE}, {NEW_TRACK_BASE + new}) r(t)"""


def _ref_song_cols(con: duckdb.DuckDBPyConnection) -> str:
    """The reference's Spotify columns under ``song_fields`` names ('' when absent)."""
    have = {row[0] for row in con.execute("describe ref_songs").fetchall()}
    names = {"album": "album_name", "name": "track_name", "duration": "duration_ms"}
    out = []
    for col in (
        "artists",
        "album",
        "name",
        "popularity",
        "duration",
        "explicit",
        *song_gen.AUDIO_FEATURES,
    ):
        src = names.get(col, col)
        out.append(f"coalesce(trim({src}), '') as {col}" if src in have else f"'' as {col}")
    return ", ".join(out)


def _write_users(con: duckdb.DuckDBPyConnection, path: Path, ref: Reference) -> dict[str, int]:
    """Delta users file: users moved to another country, then new users; builds ``inc_users``."""
    changes, new = _few(ref.users, 500, 20), _few(ref.users, 200, 50)
    base = max(0, (ref.max_user_id - 1000) // 3 + 1)  # uid(base + k) > every reference id
    con.execute(f"create or replace table inc_user_rows as {_users_sql(ref, changes, new, base)}")
    copy_lines(
        con,
        f"select {user_gen.user_line()} as line from inc_user_rows order by ord",
        user_gen.HEADER,
        path,
    )
    con.execute(f"""create or replace table inc_users as
      select row_number() over (order by user_id) - 1 as k, user_id from ref_users
      union all
      select {ref.users} + ord - {changes} - 1, user_id from inc_user_rows where ord > {changes}""")
    return {"country_changes": changes, "new_users": new}


def _users_sql(ref: Reference, changes: int, new: int, base: int) -> str:
    """Changed rows (another country) then new users ``base..``, in file order ``ord``."""
    start, days = epoch_ms(ref.first_day), (ref.last_day - ref.first_day).days + 2
    return f"""
      with picked as (
        select *, row_number() over (order by mix(hash(user_id), 'recountry'), user_id) as k
        from ref_users qualify k <= {changes}
      )
      select k as ord, user_id, coalesce(user_name, '') as user_name,
        coalesce(user_age, '') as user_age,
        list_filter(getvariable('countries'), lambda c: c <> coalesce(user_country, ''))
          [1 + rint(k, 'newcountry', len(getvariable('countries')) - 1)] as user_country,
        coalesce(created_at, '') as created_at
      from picked
      union all
      select {changes} + 1 + u - {base}, {user_gen.user_fields("u", start, days)}
      from range({base}, {base + new}) r(u)"""


def _write_streams(
    con: duckdb.DuckDBPyConnection, path: Path, ref: Reference, n: int, dirty: float, ms: bool
) -> tuple[dict[str, int], dict[str, int]]:
    """Late + new events (rows 0..nb-1, may be corrupted), then reference duplicates."""
    n_dup = min(round(n * DUP_SHARE), scalar(con, "select count(*) from ref_events"))
    n_late = round(n * LATE_SHARE)
    nb = n - n_dup
    _create_events(con, ref, (n_late, nb, n))
    _fix_collisions(con, nb)

    def events(source: str) -> str:
        return f"select * from inc_events where i in (select i from ({source}))"

    cols = [c for c in stream_gen.COLUMNS if ms or c != "ms_played"]
    kinds = stream_gen.kinds_for(ms)
    injected = {k: 0 for k in kinds}
    bad, padded = None, 0
    if dirty > 0:
        injected = stream_gen.create_bad(con, events, nb, dirty, kinds)
        bad, padded = (kinds, dirty), stream_gen.padded_ids(con, nb, dirty)
    injected["duplicate_event"] += n_dup
    rows = events(stream_gen.range_sql(0, n))
    stream_gen.write_file(con, path, rows, cols, ",".join(cols), bad)
    extras = {"late_streams": n_late, "new_streams": nb - n_late, "reference_duplicates": n_dup}
    return injected, extras | {"padded_user_id": padded}


def _create_events(
    con: duckdb.DuckDBPyConnection, ref: Reference, bounds: tuple[int, int, int]
) -> None:
    """Table ``inc_events``: late rows, new rows, then duplicates of reference events."""
    n_late, nb, n = bounds
    _create_base(con, ref, n_late, nb)
    con.execute(f"""create or replace table inc_events as
      with dups as (
        select *, row_number() over (order by mix(hash(user_id, track_id, ts_ms), 'dupsample'),
          user_id, track_id, ts_ms) - 1 as k
        from ref_events
      )
      select b.i, u.user_id, t.track_id, b.ts_ms, b.style::bigint as style, b.off::bigint as off,
        {stream_gen.msp_sql("b", "t.dur")} as msp
      from inc_base b join inc_users u on u.k = b.uidx join inc_tracks t on t.k = b.tkey
      union all
      select {nb} + k, user_id, track_id, ts_ms,
        case when contains(raw_time, 'T') then 0 else 1 + rint(k, 'dupstyle', 2) end,
        pick(getvariable('offsets'), k, 'dupoff'), try_cast(ms as bigint)
      from dups where k < {n - nb}""")


def _create_base(con: duckdb.DuckDBPyConnection, ref: Reference, n_late: int, nb: int) -> None:
    """Table ``inc_base``: listening sessions on covered days (rows ``0..n_late-1``), then on
    the new day (up to ``nb``), users as active as in the reference.

    Some new-day sessions belong to the new users (numbered after the old ones; always the
    first), some of their tracks are new tracks.
    """
    covered = (ref.last_day - ref.first_day).days + 1
    density = scalar(con, "select count(*) from ref_events") / (ref.users * covered)
    genres = scalar(con, "select len(getvariable('genres'))")
    new_day = ref.last_day + dt.timedelta(days=1)
    late = Shape(ref.users, ref.tracks, covered, epoch_ms(ref.first_day), genres, density)
    new = Shape(ref.users, ref.tracks, 1, epoch_ms(new_day), genres, density)
    con.execute("set variable inc_durs = (select list(dur order by k) from inc_tracks)")
    duration = "getvariable('inc_durs')[tkey + 1]"
    create_base(con, "inc_late", late, (0, n_late), duration)
    create_base(con, "inc_new", new, (n_late, nb), duration)
    fresh_users = scalar(con, "select count(*) from inc_users") - ref.users
    fresh_tracks = scalar(con, "select count(*) from inc_tracks") - ref.tracks
    con.execute(f"""create or replace table inc_base as
      select i, uidx, tkey, ts_ms, style, off, p from inc_late
      union all
      select i,
        case when j = 0 or rnd(j, 'nu') < {NEW_ENTITY_SHARE}
          then {ref.users} + rint(j, 'nuk', {fresh_users}) else uidx end,
        case when rnd(i, 'nt') < {NEW_ENTITY_SHARE}
          then {ref.tracks} + rint(i, 'ntk', {fresh_tracks}) else tkey end,
        ts_ms, style, off, p
      from inc_new""")


def _fix_collisions(con: duckdb.DuckDBPyConnection, nb: int) -> None:
    """Move late/new rows that repeat a reference event or an earlier row 1 s later."""
    for _ in range(20):
        clash = [row[0] for row in con.execute(_CLASHES.format(nb=nb)).fetchall()]
        if not clash:
            return
        moved = ", ".join(map(str, clash))
        con.execute(f"update inc_events set ts_ms = ts_ms + 1000 where i in ({moved})")
    raise RuntimeError("could not make increment events unique")


_CLASHES = """
  select i from (
    select i, row_number() over (partition by user_id, track_id, ts_ms order by i) as rn
    from (select i, user_id, track_id, ts_ms from inc_events
      union all
      select -1, user_id, track_id, ts_ms from ref_events
      semi join inc_events using (user_id, track_id, ts_ms)))
  where rn > 1 and i < {nb}"""
