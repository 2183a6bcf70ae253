"""The run summary: what a run did, for people (CLI) and machines (webhook, SNS, Airflow)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from musicstream.pipeline import quality
from musicstream.state import REJECTED, Batch


def run_summary(
    batches: list[Batch], duration_s: float, error: BaseException | str | None = None
) -> dict[str, Any]:
    """What happened, for people (CLI) and machines (webhook, SNS, Airflow)."""
    rejected = [quality.message(quality.verdict(b)) for b in batches if b.status == REJECTED]
    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    status = "failed" if error else "rejected" if rejected else "ok" if batches else "nothing_new"
    return {
        "status": status,
        "batch_ids": [b.batch_id for b in batches],
        "files": sum(len(b.files) for b in batches),
        "datasets": _datasets(batches),
        "dates": sorted({d for b in batches for d in b.dates}),
        "duration_s": round(duration_s, 3),
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
