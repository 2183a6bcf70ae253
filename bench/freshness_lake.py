"""The freshness case's lake side: a loaded lake (built once) and a working copy of it, an
uploader that lands micro-batches of streams in it, and a read-only observer of its ledger and
SQLite store.

Times are ``time.time()`` on this host, the clock the watcher stamps files and loads with.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench import data, measure
from bench.scale import Scale

DAY_MS = 86_400_000
SPREAD = 7_919  # coprime with DAY_MS: row k's millisecond of the day, k * SPREAD, is unique
LATE_SHARE = 10  # every 10th stream of a micro-batch is late: the day before the latest
STORE = "_state/kpis.sqlite"
LEDGER = "_state/batches"
LANDING = "landing/streams"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Landed:
    """One landed file: when it was renamed into landing, taken into a batch (its ledger
    manifest first seen) and visible in the store (its batch's load first seen)."""

    path: str  # lake-relative, as the ledger spells it
    streams: int
    landed: float
    taken: float | None = None
    visible: float | None = None
    batch_id: str | None = None

    @property
    def lag_s(self) -> float | None:
        return None if self.visible is None else self.visible - self.landed


def base_lake(scale: Scale, out: Path, data_root: Path, threads: int) -> Path:
    """``out/<scale>/freshness/base``: the scale's history loaded by one ``musicstream run``
    (built once; delete the folder to rebuild)."""
    folder = out.resolve() / scale.label / "freshness" / "base"
    lake, stamp = folder / "lake", folder / ".complete"
    if stamp.exists():
        return lake
    data.fresh_lake(lake, data.landing(scale, data_root, threads))
    cmd = [sys.executable, "-m", "musicstream", "run", "--lake", str(lake)]
    env = {"PYTHONPATH": str(REPO), "MUSICSTREAM_PROGRESS": "false", "MUSICSTREAM_SETTLE_S": "0"}
    done = measure.run([*cmd, "--threads", str(threads)], folder / "run.log", cwd=folder, env=env)
    if not done.ok:
        raise RuntimeError(f"the base lake's run failed: {done.error}")
    stamp.write_text(f"{done.wall_s:.1f} s\n")
    return lake


def working_copy(base: Path, target: Path) -> Path:
    """A copy of ``base`` at ``target``: ``archive/`` hard-linked (written once, never in
    place), everything else copied (the store, the ledger and KPI files change in place)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("archive"))
    if (base / "archive").exists():
        shutil.copytree(base / "archive", target / "archive", copy_function=os.link)
    return target


class Uploader:
    """Writes streams of the lake's latest days (real users and tracks from its curated
    dimensions) to a hidden ``.tmp`` name in ``landing/streams/``, then renames it in."""

    def __init__(self, lake: Path, latest: dt.date, seed: int = 16) -> None:
        self.lake, self.folder = lake, lake / LANDING
        self.folder.mkdir(parents=True, exist_ok=True)
        self.users, self.tracks = _ids(lake, latest - dt.timedelta(days=1))
        self.days_ms = [_ms(latest - dt.timedelta(days=1)), _ms(latest)]
        self.rng = np.random.default_rng(seed)
        self.rows = 0  # streams written so far: the next one's unique millisecond
        self.files = 0

    def write(self, streams: int) -> Path:
        """A new micro-batch under a name the watcher ignores; ``land`` renames it in."""
        self.files += 1
        temp = self.folder / f".micro-{self.files:05d}.csv.tmp"
        options = pacsv.WriteOptions(quoting_style="none")  # no quotes: the fast scan
        pacsv.write_csv(self._table(streams), temp, write_options=options)
        return temp

    def land(self, temps: list[Path], streams: int) -> list[Landed]:
        """Rename ``temps`` into landing at one instant (their mtime): files landed together
        settle together."""
        now = time.time()
        out = []
        for temp in temps:
            os.utime(temp, (now, now))
            final = temp.with_name(temp.name.removeprefix(".").removesuffix(".tmp"))
            os.rename(temp, final)
            out.append(Landed(final.relative_to(self.lake).as_posix(), streams, now))
        return out

    def _table(self, n: int) -> pa.Table:
        k = np.arange(self.rows, self.rows + n, dtype=np.int64)
        self.rows += n
        late = (k % LATE_SHARE) == 0
        ms = np.where(late, self.days_ms[0], self.days_ms[1]) + (k * SPREAD) % DAY_MS
        when = pa.array(ms, pa.timestamp("ms")).cast(pa.string())
        return pa.table(
            {
                "user_id": self.users.take(self.rng.integers(0, len(self.users), n)),
                "track_id": self.tracks.take(self.rng.integers(0, len(self.tracks), n)),
                "listen_time": when,
                "ms_played": pa.array(self.rng.integers(1_000, 300_000, n)),
            }
        )


def _ids(lake: Path, first_day: dt.date) -> tuple[pa.Array, pa.Array]:
    """User ids that signed up before ``first_day`` and every track id, from the lake."""
    users = pq.read_table(lake / "curated/users/users.parquet", columns=["user_id", "created_at"])
    signed_up = np.asarray(users["created_at"].is_valid()) & np.asarray(
        users["created_at"].fill_null(dt.datetime(2100, 1, 1)).to_numpy()
        < np.datetime64(first_day.isoformat())
    )
    tracks = pq.read_table(lake / "curated/songs/songs.parquet", columns=["track_id"])
    user_ids = users["user_id"].filter(pa.array(signed_up)).combine_chunks()
    if not len(user_ids) or not tracks.num_rows:
        raise RuntimeError(f"{lake} has no users signed up before {first_day}, or no songs")
    return user_ids, tracks["track_id"].combine_chunks()


def _ms(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * DAY_MS


def latest_date(lake: Path) -> dt.date:
    """The latest report date the lake's store has (what the micro-batches land on)."""
    with contextlib.closing(_read_only(lake / STORE)) as con:
        row = con.execute("select max(latest_date) from loads").fetchone()
    if not row or not row[0]:
        raise RuntimeError(f"{lake} has no load in its store: build the history first")
    return dt.date.fromisoformat(row[0])


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


class Observer:
    """Polls the ledger (a file is taken when a batch manifest lists it) and the store's
    ``loads`` table (visible when its batch's load is there), read-only."""

    def __init__(self, lake: Path) -> None:
        self.lake = lake
        self.files: dict[str, Landed] = {}
        self.batches: dict[str, list[str]] = {}  # batch id → its landing paths
        self.loaded: dict[str, float] = {}  # batch id → when its load was first seen
        self.seen = {p.name for p in (lake / LEDGER).glob("*.json")}
        self.con = _read_only(lake / STORE)
        last = self.con.execute("select coalesce(max(finished_at), '') from loads").fetchone()
        self.last: str = last[0]

    def track(self, landed: list[Landed]) -> None:
        self.files.update((f.path, f) for f in landed)

    def poll(self, now: float) -> list[str]:
        """Look once; the ids of the batches whose loads appeared since the last look."""
        for entry in os.scandir(self.lake / LEDGER):
            if entry.name.endswith(".json") and entry.name not in self.seen:
                self._taken(entry.name, now)
        rows = self.con.execute(
            "select batch_id, finished_at from loads where finished_at > ? order by finished_at",
            (self.last,),
        ).fetchall()
        for batch_id, finished in rows:
            self.last = finished
            self.loaded.setdefault(batch_id, now)
            self._resolve(batch_id)
        return [batch_id for batch_id, _ in rows]

    def _taken(self, name: str, now: float) -> None:
        try:
            manifest = json.loads((self.lake / LEDGER / name).read_text())
        except (OSError, ValueError):
            return  # not there any more, or unreadable: the next poll tries again
        self.seen.add(name)
        batch_id = manifest["batch_id"]
        self.batches[batch_id] = [f["path"] for f in manifest["files"]]
        for path in self.batches[batch_id]:
            if path in self.files:
                self.files[path].taken, self.files[path].batch_id = now, batch_id
        self._resolve(batch_id)

    def _resolve(self, batch_id: str) -> None:
        """Mark the files of ``batch_id`` visible once both its manifest and load are seen."""
        if batch_id not in self.loaded:
            return
        for path in self.batches.get(batch_id, []):
            if path in self.files and self.files[path].visible is None:
                self.files[path].visible = self.loaded[batch_id]

    def backlog(self, now: float) -> int:
        """Files landed by ``now`` and not yet taken into a batch."""
        return sum(1 for f in self.files.values() if f.landed <= now and f.taken is None)

    def pending(self, landed: list[Landed]) -> int:
        return sum(1 for f in landed if f.visible is None)

    def close(self) -> None:
        self.con.close()
