"""The quality gate: reject a batch whose quarantine share is above ``max_bad_ratio``.

A rejected batch leaves no trace in the curated lake, the KPIs or the store: its curated
stream files are removed and the dimension snapshots it upserted are put back from the
before-images taken when it was first validated. What stays is the evidence — its quarantine,
its ``batch_quality`` rows, its raw files in the archive and its ledger manifest (status
``rejected``) — so nothing is silently dropped, and later batches are not held up by it.
"""

from __future__ import annotations

from typing import Any

from musicstream.datasets import DATASETS
from musicstream.lake import Lake
from musicstream.state import ARCHIVED, COMMITTED, COMPUTED, CURATED, PLANNED, Batch

ROLLBACK = "_state/rollback"
PASSED = (COMPUTED, COMMITTED, ARCHIVED)  # statuses beyond the gate


def bad_ratios(batch: Batch) -> dict[str, float]:
    """Quarantined / read rows of each dataset the batch brought rows of."""
    ratios = {}
    for dataset in DATASETS:
        files = batch.data_files(dataset.name)
        read = sum(f.rows_read for f in files)
        if read:
            ratios[dataset.name] = sum(f.rows_quarantined for f in files) / read
    return ratios


def verdict(batch: Batch) -> dict[str, Any]:
    """Whether the batch passes: its worst dataset's ratio is at most ``max_bad_ratio``."""
    if batch.status == PLANNED:
        raise ValueError(f"batch {batch.batch_id} is not validated yet")
    ratios = bad_ratios(batch)
    worst = max(ratios.values(), default=0.0)
    at_gate = batch.status == CURATED
    passed = worst <= batch.max_bad_ratio if at_gate else batch.status in PASSED
    return {
        "batch_id": batch.batch_id,
        "passed": passed,
        "max_bad_ratio": batch.max_bad_ratio,
        "worst_ratio": worst,
        "ratios": ratios,
    }


def message(result: dict[str, Any]) -> str:
    """One line for people: which batch, how bad, against what limit."""
    worst = max(result["ratios"].items(), key=lambda kv: kv[1], default=("-", 0.0))
    return (
        f"batch {result['batch_id']} rejected by the quality gate: {worst[0]} quarantined "
        f"{worst[1]:.1%} of its rows (max_bad_ratio {result['max_bad_ratio']:.1%}); "
        f"see quarantine/*/batch_id={result['batch_id']}/"
    )


def _dimensions(batch: Batch) -> list[str]:
    return [d.name for d in DATASETS if d.is_dimension and batch.data_files(d.name)]


def save_before_images(lake: Lake, batch: Batch) -> None:
    """Keep the dimension snapshots the batch is about to upsert (once per batch).

    The marker is written last: a crash while copying copies again, and the snapshots are
    not touched before the marker exists.
    """
    folder = f"{ROLLBACK}/{batch.batch_id}"
    if lake.exists(f"{folder}/before.json"):
        return
    existed = {}
    for dim in _dimensions(batch):
        rel = f"curated/{dim}/{dim}.parquet"
        existed[dim] = lake.exists(rel)
        if existed[dim]:
            lake.write_bytes(f"{folder}/{dim}.parquet", lake.read_bytes(rel))
    lake.write_json(f"{folder}/before.json", existed)


def roll_back(lake: Lake, batch: Batch) -> None:
    """Undo the batch's curation; idempotent, so an interrupted rejection can be redone."""
    for day in batch.dates:
        lake.remove(f"curated/streams/report_date={day}/{batch.batch_id}.parquet", recursive=True)
    folder = f"{ROLLBACK}/{batch.batch_id}"
    if not lake.exists(f"{folder}/before.json"):
        if _dimensions(batch):
            raise RuntimeError(f"no before-images of batch {batch.batch_id}: cannot roll back")
        return
    for dim, existed in lake.read_json(f"{folder}/before.json").items():
        rel = f"curated/{dim}/{dim}.parquet"
        if existed:  # write_bytes: readers see the old snapshot or the restored one
            lake.write_bytes(rel, lake.read_bytes(f"{folder}/{dim}.parquet"))
        else:
            lake.remove(rel)


def discard_before_images(lake: Lake, batch: Batch) -> None:
    lake.remove(f"{ROLLBACK}/{batch.batch_id}", recursive=True)
