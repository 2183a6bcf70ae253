"""The quality gate's verdict, and the ``batch_quality`` rows it is judged from.

A batch is rejected when the share of quarantined rows of any dataset it brought is above its
``max_bad_ratio`` (recorded in its plan, so a retried step judges it the same way). A rejected
batch is undone by :func:`musicstream.curate.roll_back`; its evidence stays (SPEC §4).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from musicstream import layout
from musicstream.datasets import BATCH_QUALITY, DATASETS
from musicstream.engines import FileCounts
from musicstream.lake import Lake
from musicstream.state import ARCHIVED, COMMITTED, COMPUTED, CURATED, PLANNED, Batch

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
        f"see {layout.QUARANTINE}/*/batch_id={result['batch_id']}/"
    )


def quality_rows(dataset: str, counts: Iterable[FileCounts]) -> list[dict[str, object]]:
    """batch_quality rows of one dataset: 'kept' and one row per reason or warning."""
    totals: dict[str, int] = {}
    for c in counts:
        totals["kept"] = totals.get("kept", 0) + c.rows_kept
        for reason, n in c.reasons.items():
            totals[reason] = totals.get(reason, 0) + n
    return [{"dataset": dataset, "reason": r, "rows": n} for r, n in sorted(totals.items())]


def write_batch_quality(lake: Lake, batch_id: str, rows: list[dict[str, object]]) -> None:
    data = BATCH_QUALITY.parquet([r[c] for c in BATCH_QUALITY.names] for r in rows)
    lake.write_bytes(layout.batch_quality_file(batch_id), data)
