"""One step per process: what Airflow tasks, ``musicstream stage`` and the Spark/Glue jobs call.

Each function takes the lake's run lock for its step, finds the batch in the ledger, runs the
step of :class:`~musicstream.pipeline.steps.Steps` (a no-op when the batch is already past
it) and returns a small JSON-able result for the next task.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from musicstream.errors import UserError
from musicstream.pipeline import quality
from musicstream.pipeline.steps import Steps, lake_for
from musicstream.pipeline.summary import run_summary, warnings_of
from musicstream.settings import Settings
from musicstream.state import Batch


def plan_batch(settings: Settings, clock: datetime | None = None) -> dict[str, Any] | None:
    """The batch to work on: the oldest unfinished one, else the new landing files; or None."""
    with Steps.locked(settings) as steps:
        pending = steps.unfinished()
        batch = pending[0] if pending else steps.plan(clock)
        return None if batch is None else brief(batch)


def _step(
    settings: Settings, batch_id: str, step: Callable[[Steps, Batch], None]
) -> dict[str, Any]:
    with Steps.locked(settings) as steps:
        batch = steps.batch(batch_id)
        step(steps, batch)
        return brief(batch)


def validate_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Steps.validate)


def compute_batch_kpis(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Steps.compute)


def load_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Steps.load)


def archive_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Steps.archive)


def reject_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Steps.reject)


def check_quality(settings: Settings, batch_id: str) -> dict[str, Any]:
    """The gate's verdict on a validated batch (read-only: no lock)."""
    return quality.verdict(Steps(settings, lake_for(settings)).batch(batch_id))


def summarize(
    settings: Settings, batch_id: str | None, error: BaseException | str | None = None
) -> dict[str, Any]:
    """The run summary of one batch, as ``pipeline.run`` reports it, for notifications."""
    lake = lake_for(settings)
    batches = [] if batch_id is None else [Steps(settings, lake).batch(batch_id)]
    warnings = None if error else warnings_of(settings, lake, batches)
    return run_summary(batches, sum(b.duration_s or 0.0 for b in batches), error, warnings)


STAGES: dict[str, Callable[[Settings, str], dict[str, Any]]] = {
    "validate": validate_batch,
    "check_quality": check_quality,
    "compute_kpis": compute_batch_kpis,
    "load": load_batch,
    "archive": archive_batch,
    "reject": reject_batch,
    "summarize": summarize,
}


def run_stage(name: str, settings: Settings, batch_id: str) -> dict[str, Any]:
    """One stage by name: what ``musicstream stage`` and the Spark/Glue entry points call."""
    if name not in STAGES:
        raise UserError(f"unknown stage {name!r}; choose one of {', '.join(STAGES)}")
    return STAGES[name](settings, batch_id)


def brief(batch: Batch) -> dict[str, Any]:
    """What a step hands to the next one (Airflow XCom): small, JSON-able."""
    return {
        "batch_id": batch.batch_id,
        "status": batch.status,
        "files": len(batch.files),
        "rows_read": sum(f.rows_read for f in batch.files),
        "rows_quarantined": sum(f.rows_quarantined for f in batch.files),
        "dates": batch.dates,
    }
