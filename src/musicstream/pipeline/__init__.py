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

import logging
import time
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from musicstream import interrupts, layout, notify
from musicstream.curate import curated_dates
from musicstream.errors import DataHealthFailed, QualityGateFailed
from musicstream.lake import Lake
from musicstream.pipeline.stages import Display
from musicstream.pipeline.steps import OnStep, Steps, lake_for, no_step
from musicstream.pipeline.summary import run_summary, warnings_of
from musicstream.settings import Settings
from musicstream.state import Batch

log = logging.getLogger(__name__)

__all__ = ["Display", "OnStep", "backfill", "curated_dates", "lake_for", "no_step", "run"]


def run(
    settings: Settings,
    on_step: OnStep = no_step,
    clock: datetime | None = None,
    display: Display | None = None,
) -> dict[str, Any]:
    """Process the landing zone once: finish any interrupted batch, then the new files.

    A failure, or a stop signal (interrupts.py), is notified with the batch it stopped, then
    raised; the lock is released on the way out either way."""
    lake = lake_for(settings)
    started = time.monotonic()
    done: list[Batch] = []
    current: list[Batch] = []  # the batch a failure interrupts: the failure summary names it
    try:
        with Steps.locked(settings, lake, on_step, display) as steps:
            for batch in _batches(steps, clock):
                current[:] = [batch]
                steps.finish(batch)
                done.append(batch)
    except BaseException as exc:
        failed = [b for b in current if b not in done]
        error = interrupts.translated(exc)
        notify.notify(settings, run_summary(done + failed, time.monotonic() - started, error))
        if isinstance(error, interrupts.Interrupted):
            held = f"batch {failed[0].batch_id} stopped" if failed else "run stopped"
            error.detail = f"{held}, the lake's lock released; the next run carries on"
        if error is not exc:
            raise error from None
        raise
    summary = run_summary(
        done, time.monotonic() - started, warnings=warnings_of(settings, lake, done)
    )
    failing = [w["message"] for w in summary["warnings"] if w["check"] in settings.fail_on_warnings]
    if failing and summary["status"] == "ok":
        summary.update(status="failed", error="; ".join(failing))
    notify.notify(settings, summary)
    if summary["status"] == "rejected":
        raise QualityGateFailed(summary["error"])
    if failing:
        raise DataHealthFailed(f"{summary['error']} (fail_on_warnings)")
    return summary


def _batches(steps: Steps, clock: datetime | None) -> Iterator[Batch]:
    """An interrupted run's batches first, then the new files (planned once those are done)."""
    yield from steps.unfinished()
    planned = steps.plan(clock)
    if planned is not None:
        yield planned


def backfill(
    settings: Settings,
    date_from: date,
    date_to: date,
    on_step: OnStep = no_step,
    display: Display | None = None,
) -> list[date]:
    """Recompute and reload every date in the range that has curated streams."""
    with Steps.locked(settings, on_step=on_step, display=display) as steps:
        dates = [d for d in curated_dates(steps.lake) if date_from <= d <= date_to]
        _warn_orphans(steps.lake, set(dates), date_from, date_to)
        steps.recompute(dates)
    return dates


def _warn_orphans(lake: Lake, dates: set[date], date_from: date, date_to: date) -> None:
    """Dates in the range with KPIs but no curated streams (lost, or deleted by hand): a
    backfill cannot recompute them, and will not erase their KPIs — say so."""
    kpi_days = {layout.day_of(p) for p in lake.files(layout.kpi_table("genre_daily"))}
    orphans = sorted(d for d in kpi_days if d and date_from <= d <= date_to and d not in dates)
    if orphans:
        log.warning(
            "%d date(s) have KPIs but no curated streams, so backfill skips them (%s … %s): "
            "restore their curated/streams partitions from a backup, then backfill again "
            "(`musicstream verify` lists them)",
            len(orphans),
            orphans[0],
            orphans[-1],
        )
