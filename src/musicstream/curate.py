"""Curation's lake side: which dates have curated streams, and undoing a batch's curation.

The engines write the curated lake (dimension snapshots upserted, streams into their
report_date partitions). What lives here is what the quality gate needs around that: the
before-images of the dimension snapshots a batch is about to upsert, and the rollback of a
rejected batch. A rejected batch leaves no trace in the curated lake, the KPIs or the store;
what stays is the evidence — its quarantine, its ``batch_quality`` rows, its raw files in the
archive and its ledger manifest (status ``rejected``) — so nothing is silently dropped, and
later batches are not held up by it.
"""

from __future__ import annotations

from datetime import date

from musicstream import layout
from musicstream.datasets import DATASETS
from musicstream.lake import Lake
from musicstream.state import Batch


def curated_dates(lake: Lake) -> list[date]:
    """Dates that have curated streams."""
    found = {layout.day_of(p) for p in lake.files(layout.CURATED_STREAMS) if p.endswith(".parquet")}
    return sorted(d for d in found if d is not None)


def _dimensions(batch: Batch) -> list[str]:
    return [d.name for d in DATASETS if d.is_dimension and batch.data_files(d.name)]


def save_before_images(lake: Lake, batch: Batch) -> None:
    """Keep the dimension snapshots the batch is about to upsert (once per batch).

    The marker is written last: a crash while copying copies again, and the snapshots are
    not touched before the marker exists.
    """
    folder = layout.rollback(batch.batch_id)
    if lake.exists(f"{folder}/before.json"):
        return
    existed = {}
    for dim in _dimensions(batch):
        rel = layout.dimension(dim)
        existed[dim] = lake.exists(rel)
        if existed[dim]:
            lake.write_bytes(f"{folder}/{dim}.parquet", lake.read_bytes(rel))
    lake.write_json(f"{folder}/before.json", existed)


def roll_back(lake: Lake, batch: Batch) -> None:
    """Undo the batch's curation; idempotent, so an interrupted rejection can be redone."""
    for day in batch.dates:
        lake.remove(layout.stream_file(day, batch.batch_id), recursive=True)
    folder = layout.rollback(batch.batch_id)
    if not lake.exists(f"{folder}/before.json"):
        if _dimensions(batch):
            raise RuntimeError(f"no before-images of batch {batch.batch_id}: cannot roll back")
        return
    for dim, existed in lake.read_json(f"{folder}/before.json").items():
        rel = layout.dimension(dim)
        if existed:  # write_bytes: readers see the old snapshot or the restored one
            lake.write_bytes(rel, lake.read_bytes(f"{folder}/{dim}.parquet"))
        else:
            lake.remove(rel)


def discard_before_images(lake: Lake, batch: Batch) -> None:
    """Drop what curation kept for after the batch: its before-images (once it is archived
    or rejected, nothing rolls it back) and its changed dimension rows (loaded by then)."""
    lake.remove(layout.rollback(batch.batch_id), recursive=True)
    lake.remove(layout.changes(batch.batch_id), recursive=True)
