"""The pipeline, top to bottom: plan → validate → curate → quality gate → compute KPIs →
load → archive → notify.

Every step is idempotent and a batch's plan (files, run clock, quality gate) is saved before
any work, so a run killed anywhere and started again finishes the same batch the same way.

    pipeline/__init__.py   run() and backfill(): whole runs under the lake's lock
    pipeline/steps.py      Steps: the resumable steps of one batch, and finish() through them
    pipeline/tasks.py      one step per process (Airflow tasks, spark-submit, Glue)
    pipeline/quality.py    the quality gate's verdict and the batch_quality rows
    pipeline/summary.py    the run summary, for people and machines
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from musicstream import notify
from musicstream.curate import curated_dates
from musicstream.errors import QualityGateFailed
from musicstream.pipeline.steps import OnStep, Steps, lake_for, no_step
from musicstream.pipeline.summary import run_summary
from musicstream.settings import Settings
from musicstream.state import Batch

__all__ = ["OnStep", "backfill", "curated_dates", "lake_for", "no_step", "run"]


def run(
    settings: Settings, on_step: OnStep = no_step, clock: datetime | None = None
) -> dict[str, Any]:
    """Process the landing zone once: finish any interrupted batch, then the new files."""
    lake = lake_for(settings)
    started = time.monotonic()
    done: list[Batch] = []
    current: list[Batch] = []  # the batch a failure interrupts: the failure summary names it
    try:
        with Steps.locked(settings, lake, on_step) as steps:
            for batch in _batches(steps, clock):
                current[:] = [batch]
                steps.finish(batch)
                done.append(batch)
    except Exception as exc:
        failed = [b for b in current if b not in done]
        notify.notify(settings, run_summary(done + failed, time.monotonic() - started, error=exc))
        raise
    summary = run_summary(done, time.monotonic() - started)
    notify.notify(settings, summary)
    if summary["status"] == "rejected":
        raise QualityGateFailed(summary["error"])
    return summary


def _batches(steps: Steps, clock: datetime | None) -> Iterator[Batch]:
    """An interrupted run's batches first, then the new files (planned once those are done)."""
    yield from steps.unfinished()
    planned = steps.plan(clock)
    if planned is not None:
        yield planned


def backfill(
    settings: Settings, date_from: date, date_to: date, on_step: OnStep = no_step
) -> list[date]:
    """Recompute and reload every date in the range that has curated streams."""
    with Steps.locked(settings, on_step=on_step) as steps:
        dates = [d for d in curated_dates(steps.lake) if date_from <= d <= date_to]
        steps.recompute(dates)
    return dates
