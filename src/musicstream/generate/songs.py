"""songs.csv in the public Spotify Tracks layout, with its repeated track ids and bad rows.

Every attribute of a track is a hash of its *track key* ``t``; a Spotify-style repeat is a
row that reuses another row's key (so the same id, name and duration) under its own genre.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from musicstream.generate.sqlkit import bad_count, copy_lines, scalar, set_variable

HEADER = (
    ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,"
    "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo,"
    "time_signature,track_genre"
)
KINDS = (
    "missing_track_id",
    "missing_genre",
    "invalid_duration_ms",
    "invalid_popularity",
    "invalid_explicit",
    "malformed_row",
)
AUDIO_FEATURES = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
)
REPEAT_SHARE = 0.2  # of odd rows, i.e. ~10% of all rows repeat another row's track id

_MACROS = """
create or replace macro word(t, salt) as pick(getvariable('words'), t, salt);
create or replace macro artist_name(a) as case
    when rnd(a, 'band') < 0.3 then 'The ' || word(a, 'b1') || ' ' || word(a, 'b2')
    else pick(getvariable('first_names'), a, 'af') || ' '
      || pick(getvariable('last_names'), a, 'al') end
    || case when rnd(a, 'at') < 0.8 then '' else pick(getvariable('artist_tails'), a, 'ax') end;
create or replace macro artist_of(t, salt, n) as
    artist_name(floor(n * pow(rnd(t, salt), 1.5))::bigint);
create or replace macro song_artists(t, n) as artist_of(t, 'a1', n)
    || case when rnd(t, 'a') < 0.15 then ';' || artist_of(t, 'a2', n) else '' end
    || case when rnd(t, 'a') < 0.03 then ';' || artist_of(t, 'a3', n) else '' end;
create or replace macro song_name(t, n) as case
    when rnd(t, 'nv') < 0.03 then word(t, 'n1') || ', ' || word(t, 'n2')
    when rnd(t, 'nv') < 0.05 then word(t, 'n1') || ' "' || word(t, 'n2') || '"'
    when rnd(t, 'nv') < 0.08 then word(t, 'n1') || ' (feat. ' || artist_of(t, 'a4', n) || ')'
    else word(t, 'n1') || ' ' || word(t, 'n2') end;
create or replace macro album_name(t, n) as case
    when rnd(t, 'al') < 0.3 then song_name(t, n)
    when rnd(t, 'al') < 0.4 then word(t, 'm1') || ' (Deluxe Edition)'
    else word(t, 'm1') || ' ' || word(t, 'm2') end;
create or replace macro song_duration(t) as case
    when rnd(t, 'dl') < 0.01 then 400000 + rint(t, 'dx', 800000)
    else 30000 + rint(t, 'd1', 150000) + rint(t, 'd2', 150000) + rint(t, 'd3', 60000) end;
create or replace macro r3(t, salt, lo, hi) as round(lo + (hi - lo) * rnd(t, salt), 3)::varchar;
"""


@dataclass(frozen=True)
class SongsResult:
    """What ``write_songs`` wrote: the file, clean row count, injected bad rows by reason."""

    path: Path
    clean_rows: int
    injected: dict[str, int]


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Install the track attribute macros ``song_fields`` relies on."""
    con.execute(_MACROS)


def song_fields(t: str, genre: str, n_artists: int) -> str:
    """Select-list of the 20 Spotify columns after the index, for track key expression ``t``."""
    return f"""b62id({t}, 'tid') as track_id, song_artists({t}, {n_artists}) as artists,
      album_name({t}, {n_artists}) as album, song_name({t}, {n_artists}) as name,
      least(100, floor(101 * pow(rnd({t}, 'pop'), 1.3)))::bigint::varchar as popularity,
      song_duration({t})::varchar as duration,
      case when rnd({t}, 'ex') < 0.09 then 'True' else 'False' end as explicit,
      r3({t}, 'f1', 0.1, 0.95) as danceability, r3({t}, 'f2', 0.05, 1.0) as energy,
      rint({t}, 'f3', 12)::varchar as key, r3({t}, 'f4', -25.0, -1.0) as loudness,
      (rnd({t}, 'f5') < 0.63)::int::varchar as mode,
      round(0.02 + 0.3 * pow(rnd({t}, 'f6'), 3), 4)::varchar as speechiness,
      round(pow(rnd({t}, 'f7'), 2), 4)::varchar as acousticness,
      case when rnd({t}, 'f8') < 0.7 then '0.0' else round(rnd({t}, 'f9'), 4)::varchar end
        as instrumentalness,
      r3({t}, 'fa', 0.03, 0.7) as liveness, r3({t}, 'fb', 0.03, 0.98) as valence,
      r3({t}, 'fc', 60.0, 200.0) as tempo,
      [4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 5, 1][1 + rint({t}, 'fd', 13)]::varchar
        as time_signature, {genre} as genre"""


def song_line(idx: str, kind: str = "null", variant: str = "0") -> str:
    """SQL for one CSV line from the ``song_fields`` columns, bad in the way ``kind`` says."""
    k = {name: code for code, name in enumerate(KINDS)}
    fields = [
        idx,
        f"case when {kind} = {k['missing_track_id']} then ['', ' ', '\"\"'][1 + {variant} % 3]"
        " else track_id end",
        "csvq(artists)",
        "csvq(album)",
        "csvq(name)",
        f"case when {kind} = {k['invalid_popularity']} then ['101', '-1', 'high', '250']"
        f"[1 + {variant} % 4] else popularity end",
        f"case when {kind} = {k['invalid_duration_ms']} then ['0', '-' || duration, '86400001',"
        f" 'n/a', '90000000'][1 + {variant} % 5] else duration end",
        f"case when {kind} = {k['invalid_explicit']} then ['yes', 'maybe', '2', 'N']"
        f"[1 + {variant} % 4] else explicit end",
        *AUDIO_FEATURES,
        f"case when {kind} = {k['missing_genre']} then ['', ' '][1 + {variant} % 2] else genre end",
    ]
    good = " || ',' || ".join(fields)
    short = " || ',' || ".join(fields[:12])
    stray = " || ',' || ".join([*fields[:4], "'\"' || word(t, 'n1') || '\"x'", *fields[5:20]])
    inner = " || ',' || ".join([*fields[:4], "word(t, 'n1') || '\"x\"y'", *fields[5:20]])
    broken = f"[{short}, {good} || ',extra,junk', {stray}, {inner}][1 + {variant} % 4]"
    return f"case when {kind} = {k['malformed_row']} then {broken} else {good} end"


def write_songs(
    con: duckdb.DuckDBPyConnection, path: Path, rows: int, genres: list[str], dirty: float
) -> SongsResult:
    """Write ``rows`` song rows to ``path``; leave table ``song_ids`` and macro ``song_key``.

    Clean rows are laid out in genre blocks like the public file; bad rows (``dirty`` > 0)
    are extra tracks with fresh ids, spread through the file, one reason each in turn.
    ``song_key(r)`` maps clean row ``r`` to the key of the track it carries (a repeat points
    to its original); ``song_ids(tkey, track_id, dur)`` lists each distinct clean track once.
    """
    n_bad = bad_count(rows, dirty, len(KINDS))
    n_clean = rows - n_bad
    install_macros(con)
    set_variable(con, "genres", genres)
    con.execute(_key_macro(n_clean, len(genres)))
    con.execute(f"create or replace table song_rows as {_rows_sql(n_clean, n_bad, len(genres))}")
    con.execute("""create or replace table song_ids as select t as tkey, track_id,
      duration::bigint as dur from song_rows where kind is null and t = rid""")
    line = song_line("(row_number() over (order by pos, rid) - 1)::varchar", "kind", "variant")
    copy_lines(con, f"select {line} as line from song_rows order by pos, rid", HEADER, path)
    injected = {name: len(range(code, n_bad, len(KINDS))) for code, name in enumerate(KINDS)}
    injected["duplicate_track_id"] = scalar(con, "select count(*) from song_rows where is_dup")
    return SongsResult(path, n_clean, injected)


def _key_macro(n_clean: int, n_genres: int) -> str:
    """Macro ``song_key(r)``: odd rows sometimes repeat an even row, ~half the file away.

    The offset is at least half a genre block, so the repeat (usually) sits in another genre.
    Even rows never repeat, so a repeat's original is always an original itself.
    """
    even = n_clean - n_clean % 2
    half_block = -(-n_clean // max(1, n_genres) // 2)
    span = max(1, even // 2 - 2 * half_block - 2)
    repeats = "true" if n_genres > 1 and n_clean >= 4 else "false"
    return f"""create or replace macro song_key(r) as case
      when {repeats} and r % 2 = 1 and rnd(r, 'dup') < {REPEAT_SHARE}
      then (r - 1 + 2 * ({half_block} + 1 + rint(r, 'dsrc', {span}))) % {max(2, even)} else r end"""


def _rows_sql(n_clean: int, n_bad: int, n_genres: int) -> str:
    """All song rows (clean + bad) with their position in the file, kind and fields."""
    n_artists = max(1, n_clean * 3 // 10)
    return f"""
    with keyed as (
      select (i + 0.5) / {n_clean} as pos, i as rid, (i * {n_genres}) // {n_clean} as g,
        null::bigint as kind, 0::bigint as variant, song_key(i) as t
      from range({n_clean}) r(i)
    ), bad as (
      select (k + 0.37) / {max(1, n_bad)} as pos, {n_clean} + k as rid,
        rint(k, 'bg', {n_genres}) as g, k % {len(KINDS)} as kind, k // {len(KINDS)} as variant,
        {n_clean} + k as t
      from range({n_bad}) r(k)
    )
    select pos, rid, t <> rid as is_dup, kind, variant, t,
      {song_fields("t", "getvariable('genres')[g + 1]", n_artists)}
    from (select * from keyed union all select * from bad)"""
