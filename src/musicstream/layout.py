"""Every path of the lake (SPEC §4), relative to its root: the one place they are spelled.

    landing/<dataset>/…                       what lands; taken once settled
    archive/<dataset>/<day>/<batch_id>/…      processed raw files
    curated/<dim>/<dim>.parquet               dimension snapshots (songs, users)
    curated/streams/report_date=D/<batch_id>.parquet
    kpis/<table>/report_date=D/data.parquet
    kpis/active_listeners/period=P/period_start=D/data.parquet
    kpis/batch_quality/batch_id=B/data.parquet
    quarantine/<dataset>/batch_id=B/quarantine.parquet
    quarantine/files/batch_id=B/files.parquet
    _state/…                                  ledger, lock, staging, scratch

A day is a ``datetime.date`` or its ISO text: both print the same.
"""

from __future__ import annotations

import datetime as dt

LANDING = "landing"
ARCHIVE = "archive"
CURATED = "curated"
KPIS = "kpis"
QUARANTINE = "quarantine"
STATE = "_state"

CURATED_STREAMS = f"{CURATED}/streams"
BATCHES = f"{STATE}/batches"
LOCK = f"{STATE}/lock.json"
STAGED = f"{STATE}/staged"
TMP = f"{STATE}/tmp"
ROLLBACK = f"{STATE}/rollback"
REPLAYS = f"{STATE}/replays"
DAMAGED = f"{STATE}/damaged"
DEMO_MARKER = f"{STATE}/DEMO"
SQLITE_STORE = f"{STATE}/kpis.sqlite"
BATCH_QUALITY = "batch_quality"
FILES = "files"  # the quarantine of whole files

Day = dt.date | str


def landing(dataset: str) -> str:
    return f"{LANDING}/{dataset}"


def archived(dataset: str, day: Day, batch_id: str, rest: str) -> str:
    """Where a processed landing file goes: ``rest`` is its path below ``landing/<dataset>/``."""
    return f"{ARCHIVE}/{dataset}/{day}/{batch_id}/{rest}"


def dimension(dataset: str) -> str:
    """The curated snapshot of a dimension (songs, users)."""
    return f"{CURATED}/{dataset}/{dataset}.parquet"


def stream_day(day: Day) -> str:
    """The folder of one report date's curated streams (one file per batch)."""
    return f"{CURATED_STREAMS}/report_date={day}"


def stream_file(day: Day, batch_id: str) -> str:
    return f"{stream_day(day)}/{batch_id}.parquet"


def day_of(path: str) -> dt.date | None:
    """The report date of a path below a ``report_date=D`` folder, else None."""
    for part in path.split("/"):
        if part.startswith("report_date="):
            return dt.date.fromisoformat(part.split("=", 1)[1])
    return None


def kpi_table(table: str) -> str:
    return f"{KPIS}/{table}"


def kpi_day(table: str, day: Day) -> str:
    return f"{KPIS}/{table}/report_date={day}"


def kpi_file(table: str, day: Day) -> str:
    return f"{kpi_day(table, day)}/data.parquet"


def batch_quality(batch_id: str) -> str:
    """The folder of one batch's ``batch_quality`` rows."""
    return f"{KPIS}/{BATCH_QUALITY}/batch_id={batch_id}"


def batch_quality_file(batch_id: str) -> str:
    return f"{batch_quality(batch_id)}/data.parquet"


def quarantine(dataset: str, batch_id: str) -> str:
    """The folder of one batch's quarantined rows of a dataset (``files``: whole files)."""
    return f"{QUARANTINE}/{dataset}/batch_id={batch_id}"


def quarantine_file(dataset: str, batch_id: str) -> str:
    return f"{quarantine(dataset, batch_id)}/quarantine.parquet"


def file_quarantine_file(batch_id: str) -> str:
    return f"{quarantine(FILES, batch_id)}/files.parquet"


def manifest(batch_id: str) -> str:
    """A batch's ledger entry."""
    return f"{BATCHES}/{batch_id}.json"


def rollback(batch_id: str) -> str:
    """The before-images of the dimensions a batch upserts (for the quality gate)."""
    return f"{ROLLBACK}/{batch_id}"


def tmp(name: str) -> str:
    """Scratch space of one process, removed when it is done."""
    return f"{TMP}/{name}"


REPLAY_LANDING = f"{LANDING}/streams/replay"  # where `replay` lands quarantined streams again
DEMO_SCRATCH = f"{STATE}/demo-batch-1"  # the demo's copy of its first landing files


def batch_of(path: str) -> str | None:
    """The batch id of a path below a ``batch_id=B`` folder, else None."""
    for part in path.split("/"):
        if part.startswith("batch_id="):
            return part.split("=", 1)[1]
    return None


def quarantined(dataset: str) -> str:
    """The folder of every batch's quarantine of a dataset."""
    return f"{QUARANTINE}/{dataset}"


def replay_manifest(replay_id: str) -> str:
    """A replay's record of the quarantined rows it took."""
    return f"{REPLAYS}/{replay_id}.json"


def replay_file(replay_id: str) -> str:
    """Where a replay lands its rows, validated by the next run like any landing file."""
    return f"{REPLAY_LANDING}/{replay_id}.csv"


def staged(name: str) -> str:
    """A landing file's copy taken at planning (a local lake): what its batch processes."""
    return f"{STAGED}/{name}"


def damaged(name: str) -> str:
    """Where `repair` sets a damaged ledger manifest aside (evidence is never deleted)."""
    return f"{DAMAGED}/{name}"


def kpi_period(table: str, period: str, start: Day) -> str:
    """The folder of one period's rows of a period table (``active_listeners``)."""
    return f"{KPIS}/{table}/period={period}/period_start={start}"


def kpi_period_file(table: str, period: str, start: Day) -> str:
    return f"{kpi_period(table, period, start)}/data.parquet"


CHANGES = f"{STATE}/changes"


def changes(batch_id: str) -> str:
    """The folder of the dimension rows a batch changed (what the store's songs/users get)."""
    return f"{CHANGES}/{batch_id}"


def changes_file(batch_id: str, dimension: str) -> str:
    return f"{changes(batch_id)}/{dimension}.parquet"
