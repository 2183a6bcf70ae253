"""``generate``: a full landing zone (songs, users, streams) from nothing but parameters.

Songs come in genre blocks like the public Spotify Tracks file (``songs``); users sign up
before, during or after the window, or never say when (``users``); streams are listening
sessions with an evening peak, weekday/weekend rhythms and Zipf-popular genres and tracks
(``sessions``), written in row order, with bad rows and files when ``dirty`` (``streams``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from musicstream.generate import songs as song_gen
from musicstream.generate import streams as stream_gen
from musicstream.generate import users as user_gen
from musicstream.generate import vocab
from musicstream.generate.sessions import Shape, create_base, fix_collisions
from musicstream.generate.sqlkit import connect
from musicstream.generate.summary import GenerateSummary

BOM_HEADER = {  # shuffled order, odd case, padding: all legal per SPEC §2
    "ms_played": "Ms_Played",
    "track_id": " Track_ID ",
    "listen_time": "LISTEN_TIME",
    "user_id": "User_Id ",
}
SPECIAL_SHARE = 20  # with dirty > 0, the .csv.gz and the BOM file each get 1/20 of the streams


def epoch_ms(day: dt.date) -> int:
    """Milliseconds since the epoch of ``day`` at 00:00 UTC."""
    return (day - dt.date(1970, 1, 1)).days * 86_400_000


def generate(
    out_dir: str | Path,
    *,
    streams: int = 100_000,
    songs: int = 11_400,
    users: int = 10_000,
    days: int = 7,
    start: dt.date = dt.date(2026, 1, 1),
    seed: int = 42,
    dirty: float = 0.0,
    ms_played: bool = True,
    genres: int = 114,
    stream_files: int = 1,
    threads: int | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> GenerateSummary:
    """Write ``out_dir/{songs,users,streams}/`` for the given sizes; same args, same bytes.

    ``songs``/``users``/``streams`` are the data rows of the regular files (bad rows included);
    ``dirty`` (0..1) is the share of rows made bad, spread over every SPEC §2 reason. With
    ``dirty`` > 0 there are also ``streams/bad/missing-columns.csv``, a ``.csv.gz`` streams
    file and one with a BOM and a shuffled, re-cased, padded header. ``threads`` only tunes
    DuckDB; it never changes the output. ``on_file`` hears of each file once written (of
    ``files_of(stream_files, dirty)`` in all: a progress bar).
    """
    _check(streams=streams, songs=songs, users=users, days=days, genres=genres, files=stream_files)
    if not 0.0 <= dirty <= 1.0 or stream_files > streams:
        raise ValueError("need 0 <= dirty <= 1 and stream_files <= streams")
    out = Path(out_dir)
    plan = _plan(streams, stream_files, dirty > 0)
    names = ["songs/songs.csv", "users/users.csv", *(f"streams/{f}" for f, _, _ in plan)]
    refuse_other_files(out, names + ["streams/bad/missing-columns.csv"] * (dirty > 0))
    written = on_file or (lambda path: None)
    con = connect(seed, threads)
    try:
        song = song_gen.write_songs(
            con, out / "songs" / "songs.csv", songs, vocab.genre_names(genres), dirty
        )
        written(song.path)
        user = user_gen.write_users(
            con, out / "users" / "users.csv", users, epoch_ms(start), days, dirty
        )
        written(user.path)
        shape = Shape(user.clean_rows, song.clean_rows, days, epoch_ms(start), genres)
        stream = _write_streams(con, out / "streams", plan, shape, dirty, ms_played, written)
    finally:
        con.close()
    return GenerateSummary(
        out_dir=out,
        files={"songs": (song.path,), "users": (user.path,), "streams": stream.paths},
        rows={"songs": songs, "users": users, "streams": stream.rows},
        injected={"songs": song.injected, "users": user.injected, "streams": stream.injected},
        extras={"empty_country": user.empty_country, "padded_user_id": stream.padded},
    )


def files_of(stream_files: int, dirty: float) -> int:
    """How many files :func:`generate` writes."""
    return 2 + stream_files + (dirty > 0)


def refuse_other_files(out: Path, names: list[str]) -> None:
    """Fail if ``out``'s dataset folders hold files this run would not (re)write.

    A landing zone is read whole, so a stale file from an earlier, larger run would silently
    join the data; rewriting the same names (a rerun) is fine.
    """
    planned = {out / name for name in names}
    for folder in ("songs", "users", "streams"):
        stale = [p for p in (out / folder).rglob("*") if p.is_file() and p not in planned]
        if stale:
            raise FileExistsError(f"{out} already holds other landing files, e.g. {stale[0]}")


def _check(**sizes: int) -> None:
    """Every size must be a positive integer."""
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


@dataclass(frozen=True)
class _Streams:
    """What ``_write_streams`` wrote."""

    paths: tuple[Path, ...]
    rows: int
    injected: dict[str, int]
    padded: int


def _write_streams(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    plan: list[tuple[str, tuple[int, int], str]],
    shape: Shape,
    dirty: float,
    ms_played: bool,
    written: Callable[[Path], None],
) -> _Streams:
    """Stream files of the session events (``plan`` from ``_plan``), bad rows if dirty."""
    n = plan[-1][1][1]
    extra = max(10, min(1000, n // 100)) if dirty > 0 else 0
    create_base(con, "stream_base", shape, (0, n + extra), "song_duration(tkey)")
    fix_collisions(con, "stream_base")

    def rows_of(source: str) -> str:
        return stream_gen.events_sql(f"b.i in ({source})")

    def events(lo: int, hi: int) -> str:
        return stream_gen.events_sql(f"b.i >= {lo} and b.i < {hi}")

    cols = [c for c in stream_gen.COLUMNS if ms_played or c != "ms_played"]
    kinds = stream_gen.kinds_for(ms_played)
    bad = None if dirty <= 0 else (kinds, dirty)
    injected = {} if bad is None else stream_gen.create_bad(con, rows_of, n, dirty, kinds)
    paths = []
    for f, r, sp in plan:
        paths.append(_stream_file(con, folder / f, events(*r), cols, sp, bad))
        written(paths[-1])
    if bad is None:
        return _Streams(tuple(paths), n, dict.fromkeys([*kinds, "missing_columns"], 0), 0)
    # a file without listen_time: SPEC rejects it whole (missing_columns)
    injected["missing_columns"] = extra
    kept = [c for c in cols if c != "listen_time"]
    paths.append(folder / "bad" / "missing-columns.csv")
    stream_gen.write_file(con, paths[-1], events(n, n + extra), kept, ",".join(kept))
    written(paths[-1])
    return _Streams(tuple(paths), n + extra, injected, stream_gen.padded_ids(con, n, dirty))


def _stream_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    rows: str,
    cols: list[str],
    special: str,
    bad: tuple[tuple[str, ...], float] | None,
) -> Path:
    """One streams file; ``special`` "gz" compresses it, "bom" gives it the odd header."""
    order = [c for c in BOM_HEADER if c in cols] if special == "bom" else cols
    header = _bom_header(order) if special == "bom" else ",".join(order)
    stream_gen.write_file(con, path, rows, order, header, bad, gz=special == "gz")
    return path


def _bom_header(order: list[str]) -> str:
    """A UTF-8 BOM, then the columns renamed per ``BOM_HEADER``."""
    return "\ufeff" + ",".join(BOM_HEADER[c] for c in order)


def _plan(n: int, n_files: int, dirty: bool) -> list[tuple[str, tuple[int, int], str]]:
    """(file name, event range, special) per file: regular files, then .gz and BOM files."""
    special = max(1, n // SPECIAL_SHARE) if dirty and n >= 3 * SPECIAL_SHARE else 0
    regular = n - 2 * special
    bounds = [regular * k // n_files for k in range(n_files + 1)]
    plan = [(f"streams-{k + 1:04d}.csv", (bounds[k], bounds[k + 1]), "") for k in range(n_files)]
    if special:
        plan.append((f"streams-{n_files + 1:04d}.csv.gz", (regular, regular + special), "gz"))
        plan.append((f"streams-{n_files + 2:04d}.csv", (regular + special, n), "bom"))
    return plan
