"""Ingest: find the settled landing files not yet in the ledger and plan them as one batch.

Files in flight are never taken (SPEC §2): a file is settled once it has not changed for
``settle_s`` seconds, and temporary names (``.x``, ``_x``, ``*.tmp``, ``*.part``,
``*.crdownload``) are never taken. On a local lake each planned file is copied into
``_state/staged/`` while it is hashed, so the batch processes exactly the content its plan
hashed, whatever a writer does to the landing file afterwards (archive.py deletes that only
if it is still the planned version). On S3 the plan records the object's ETag and admission
checks the downloaded content against the planned hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import uuid
from datetime import datetime, timedelta

from musicstream import layout
from musicstream.datasets import DATASETS
from musicstream.lake import Lake, Listed, LocalLake, one_line
from musicstream.state import Batch, FileEntry, Ledger

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz")
IGNORED_PREFIXES = (".", "_")  # hidden and temporary uploads, markers such as _SUCCESS
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload")


def ignored(path: str) -> bool:
    """A temporary or hidden name anywhere below ``landing/<dataset>/``."""
    parts = path.split("/")[2:]
    name = parts[-1].lower()
    return any(p.startswith(IGNORED_PREFIXES) for p in parts) or name.endswith(IGNORED_SUFFIXES)


def landing_files(lake: Lake, settle_s: float = 0.0) -> tuple[list[Listed], list[Listed]]:
    """(settled, still landing) files under ``landing/<dataset>/``, ignored names left out."""
    now = time.time()
    settled: list[Listed] = []
    landing: list[Listed] = []
    for dataset in DATASETS:
        for found in lake.listing(layout.landing(dataset.name)):
            if ignored(found.path):
                continue
            (landing if now - found.mtime < settle_s else settled).append(found)
    return settled, landing


def plan_batch(lake: Lake, ledger: Ledger, clock: datetime, settle_s: float = 0.0) -> Batch | None:
    """The next batch: new files by content hash; re-landed copies only get archived."""
    batches = ledger.batches()
    _drop_orphan_copies(lake, batches)
    known = ledger.known_hashes(batches)
    settled, landing = landing_files(lake, settle_s)
    if landing:
        log.info(
            "%d file(s) changed in the last %g s and are left for a later run: %s",
            len(landing),
            settle_s,
            ", ".join(f.path for f in landing[:5]),
        )
    entries = []
    for found in settled:
        entry = plan_file(lake, found)
        if entry is None:
            continue
        entry.duplicate_of = known.get(entry.sha256)
        known.setdefault(entry.sha256, entry.path)
        entries.append(entry)
    if not entries:
        return None
    taken = {b.batch_id.split("-")[0] for b in batches}
    while _second(clock) in taken:  # one batch a second: ids sort as planned
        clock += timedelta(seconds=1)
    return Batch(batch_id=batch_id(clock, entries), clock=clock.isoformat(), files=entries)


def plan_file(lake: Lake, found: Listed) -> FileEntry | None:
    """One file's ledger entry; None if it vanished or changed while it was read.

    Planning is the first per-file boundary: a file that cannot be read gets its reason
    here and is quarantined whole, never failing the plan.
    """
    dataset = found.path.split("/")[1]
    entry = FileEntry(dataset, found.path, "", found.size, landed=found.mtime)
    entry.version = found.version
    if not found.path.lower().endswith(CSV_SUFFIXES):
        entry.reason, entry.detail = "unsupported_file", "not a .csv or .csv.gz file"
    try:
        if isinstance(lake, LocalLake):
            staged = layout.staged(uuid.uuid4().hex)
            copied = lake.stage(found.path, staged)
            if copied is None:
                log.info("%s is still being written: left for a later run", found.path)
                return None
            entry.sha256, entry.size, entry.version = copied
            entry.staged = staged
        else:
            entry.sha256 = lake.sha256(found.path)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not _still_listed(lake, found.path):
            return None  # removed since the listing: nothing to plan
        entry.reason, entry.detail = "unreadable_file", one_line(exc)
        # No content to hash: the file is known by its path and version instead.
        identity = hashlib.sha256(f"{found.path}|{found.version}".encode()).hexdigest()
        entry.sha256 = f"unreadable-{identity}"
    return entry


def _still_listed(lake: Lake, rel: str) -> bool:
    if lake.is_local:
        return os.path.lexists(lake.path(rel))
    return lake.exists(rel)


def _drop_orphan_copies(lake: Lake, batches: list[Batch]) -> None:
    """Remove staged copies no unfinished batch refers to (a plan killed before its save)."""
    if not lake.is_local:
        return
    wanted = {s for b in batches for s in b.staged_copies()}
    for path in lake.files(layout.STAGED):
        if path not in wanted:
            lake.remove(path)


def batch_id(clock: datetime, entries: list[FileEntry]) -> str:
    """Sortable by time, unique by content: ``20260101T120000Z-1a2b3c4d``."""
    content = hashlib.sha256("".join(e.sha256 for e in entries).encode()).hexdigest()
    return f"{_second(clock)}-{content[:8]}"


def _second(clock: datetime) -> str:
    """A batch id's first part: its clock's second."""
    return f"{clock:%Y%m%dT%H%M%SZ}"
