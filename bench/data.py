"""The benchmark's inputs: generated landing zones (cached by size), the one-day increment,
and fresh lakes whose landing folder holds (hard links to) those files."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb

from bench.scale import Scale

START = dt.date(2026, 1, 1)
DATASETS = ("songs", "users", "streams")
_DONE = ".complete"


def landing(scale: Scale, root: Path, threads: int) -> Path:
    """``root/<size>/landing``: the generated songs, users and streams (generated once)."""
    folder = root / f"{scale.streams}-{scale.songs}-{scale.users}-{scale.days}"
    out = folder / "landing"
    if not (folder / _DONE).exists():
        from musicstream.generate import generate

        shutil.rmtree(out, ignore_errors=True)
        generate(
            out,
            streams=scale.streams,
            songs=scale.songs,
            users=scale.users,
            days=scale.days,
            start=START,
            threads=threads,
        )
        (folder / _DONE).write_text("generated\n")
    return out


def increment(scale: Scale, landing_dir: Path, streams: int, threads: int) -> Path:
    """A landing folder with one streams file: ``streams`` valid streams on the day after
    the history window (every event distinct, against known users and songs)."""
    out = landing_dir.parent / f"increment-{streams}"
    path = out / "streams" / "streams-increment.csv"
    if path.exists():
        return out
    path.parent.mkdir(parents=True, exist_ok=True)
    day_ms = (START + dt.timedelta(days=scale.days) - dt.date(1970, 1, 1)).days * 86_400_000
    step_ms = 86_400_000 // streams
    con = duckdb.connect()
    try:
        con.execute(f"set threads = {threads}")
        con.execute(
            _INCREMENT_SQL.format(
                users=_csv(landing_dir / "users"),
                songs=_csv(landing_dir / "songs"),
                n=streams,
                day_ms=day_ms,
                step_ms=step_ms,
                path=str(path) + ".tmp",
            )
        )
    finally:
        con.close()
    os.replace(str(path) + ".tmp", path)
    return out


_INCREMENT_SQL = """
copy (
    with users as (
        select list(distinct trim(user_id) order by trim(user_id)) as ids
        from read_csv({users}, header = true, all_varchar = true)
        where trim(coalesce(user_id, '')) <> ''
    ),
    songs as (
        select list(distinct trim(track_id) order by trim(track_id)) as ids
        from read_csv({songs}, header = true, all_varchar = true)
        where trim(coalesce(track_id, '')) <> ''
    ),
    final as (
        select
            users.ids[1 + (hash(i, 'user') % len(users.ids))::bigint] as user_id,
            songs.ids[1 + (hash(i, 'track') % len(songs.ids))::bigint] as track_id,
            strftime(make_timestamp(({day_ms} + i * {step_ms}) * 1000), '%Y-%m-%d %H:%M:%S.%g')
                as listen_time,
            (hash(i, 'ms') % 300000)::bigint as ms_played
        from range({n}) as r(i), users, songs
    )
    select * from final order by listen_time
) to '{path}' (format csv, header true)
"""


def _csv(folder: Path) -> str:
    """A DuckDB list literal of the CSV files under ``folder``."""
    files = sorted(str(p) for p in folder.rglob("*.csv"))
    if not files:
        raise FileNotFoundError(f"no CSV files under {folder}")
    return "[" + ", ".join(f"'{f}'" for f in files) + "]"


def stream_files(landing_dir: Path) -> list[Path]:
    """The streams CSVs of a landing folder (what the floor scans)."""
    return sorted(p for p in (landing_dir / "streams").rglob("*") if p.suffix == ".csv")


def fresh_lake(lake: Path, *sources: Path) -> Path:
    """An empty lake at ``lake`` whose landing zone links every file of ``sources``."""
    shutil.rmtree(lake, ignore_errors=True)
    for source in sources:
        land(lake, source)
    return lake


def land(lake: Path, source: Path) -> None:
    """Place ``source``'s dataset files in ``lake/landing`` (hard links; copies across disks)."""
    for dataset in DATASETS:
        for path in sorted((source / dataset).rglob("*")):
            if not path.is_file():
                continue
            target = lake / "landing" / dataset / path.relative_to(source / dataset)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
