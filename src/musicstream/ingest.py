"""Ingest: find the landing files not yet in the ledger and plan them as one batch."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from musicstream.datasets import DATASETS
from musicstream.lake import Lake
from musicstream.state import Batch, FileEntry, Ledger

log = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".csv.gz")


def landing_files(lake: Lake) -> list[tuple[str, str]]:
    """(dataset, lake-relative path) of every CSV under ``landing/<dataset>/``, sorted."""
    found = []
    for dataset in DATASETS:
        for path in lake.files(f"landing/{dataset.name}"):
            name = path.rsplit("/", 1)[-1]
            if name.startswith((".", "_")):
                continue  # temporary uploads and markers such as _SUCCESS
            if not name.lower().endswith(CSV_SUFFIXES):
                log.warning("ignoring %s: not a .csv or .csv.gz file", path)
                continue
            found.append((dataset.name, path))
    return found


def plan_batch(lake: Lake, ledger: Ledger, clock: datetime) -> Batch | None:
    """The next batch: new files by content hash; re-landed copies only get archived."""
    known = ledger.known_hashes()
    entries = []
    for dataset, path in landing_files(lake):
        digest = lake.sha256(path)
        entries.append(FileEntry(dataset, path, digest, lake.size(path), known.get(digest)))
        known.setdefault(digest, path)
    if not entries:
        return None
    return Batch(batch_id=batch_id(clock, entries), clock=clock.isoformat(), files=entries)


def batch_id(clock: datetime, entries: list[FileEntry]) -> str:
    """Sortable by time, unique by content: ``20260101T120000Z-1a2b3c4d``."""
    content = hashlib.sha256("".join(e.sha256 for e in entries).encode()).hexdigest()
    return f"{clock:%Y%m%dT%H%M%SZ}-{content[:8]}"
