"""The run summary: what a run did, for people (CLI) and machines (webhook, SNS, Airflow)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from musicstream import health
from musicstream.interrupts import Interrupted
from musicstream.lake import Lake
from musicstream.pipeline import quality
from musicstream.pipeline.stages import totals
from musicstream.settings import Settings
from musicstream.state import REJECTED, Batch

log = logging.getLogger(__name__)


def run_summary(
    batches: list[Batch],
    duration_s: float,
    error: BaseException | str | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What happened, for people (CLI) and machines (webhook, SNS, Airflow, CloudWatch).

    ``stages`` is seconds per stage kind, ``lag_s`` how long the oldest file waited from
    landing until its rows were in the store, ``warnings`` the data-health findings."""
    rejected = [quality.message(quality.verdict(b)) for b in batches if b.status == REJECTED]
    status = _status(batches, error, rejected)
    if isinstance(error, BaseException):
        error = str(error) if status == "interrupted" else f"{type(error).__name__}: {error}"
    return {
        "status": status,
        "batch_ids": [b.batch_id for b in batches],
        "files": sum(len(b.files) for b in batches),
        "datasets": _datasets(batches),
        "dates": sorted({d for b in batches for d in b.dates}),
        "duration_s": round(duration_s, 3),
        "stages": totals(batches),
        "store_items_written": sum(b.store_items for b in batches),
        "lag_s": _lag(batches),
        "warnings": warnings or [],
        "error": error or ("; ".join(rejected) if rejected else None),
        "files_quarantined": [
            {"path": f.path, "dataset": f.dataset, "reason": f.reason, "detail": f.detail}
            for b in batches
            for f in b.files
            if f.reason
        ],
        "files_left_in_landing": [
            f.path for b in batches for f in b.files if f.skipped or f.left_in_landing
        ],
        "batches": [asdict(b) for b in batches],
    }


def warnings_of(settings: Settings, lake: Lake, batches: list[Batch]) -> list[dict[str, Any]]:
    """The data-health warnings after ``batches`` (health/): freshness also when nothing was
    new. Checks that cannot run are logged, never a failed run."""
    try:
        found = health.check_batches(settings, lake, batches)
    except Exception as exc:
        log.warning("the data-health checks could not run: %s", " ".join(str(exc).split()))
        return []
    for warning in found:
        log.warning("%s: %s", warning.check, warning.message)
    return [w.as_dict() for w in found]


def _status(batches: list[Batch], error: BaseException | str | None, rejected: list[str]) -> str:
    if isinstance(error, Interrupted):
        return "interrupted"
    return "failed" if error else "rejected" if rejected else "ok" if batches else "nothing_new"


def _lag(batches: list[Batch]) -> float | None:
    """Landed → in the store for the oldest file of the loaded batches (None: none loaded)."""
    lags = [
        b.loaded_at - min(f.landed for f in b.files)
        for b in batches
        if b.loaded_at is not None and b.files and min(f.landed for f in b.files) > 0
    ]
    return round(max(lags), 3) if lags else None


def _datasets(batches: list[Batch]) -> dict[str, dict[str, Any]]:
    datasets: dict[str, dict[str, Any]] = {}
    for batch in batches:
        for f in batch.files:
            d = datasets.setdefault(f.dataset, {"files": 0, "read": 0, "kept": 0, "quarantined": 0})
            d["files"] += 1
            d["read"] += f.rows_read
            d["kept"] += f.rows_kept
            d["quarantined"] += f.rows_quarantined
        for q in batch.quality:
            reasons = datasets.setdefault(q["dataset"], {}).setdefault("reasons", {})
            if q["reason"] != "kept":
                reasons[q["reason"]] = reasons.get(q["reason"], 0) + q["rows"]
    return datasets
