"""The pipeline, top to bottom: plan → validate → curate → quality gate → transform → load →
archive → notify.

Every step is idempotent and a batch's plan (files, run clock, quality gate) is saved before
any work, so a run killed anywhere and started again finishes the same batch the same way.
The steps themselves live in ``stages.py``, where Airflow also calls them, one task each.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import Any

from musicstream import gate, notify, transform
from musicstream.engines import create_engine
from musicstream.errors import QualityGateFailed
from musicstream.lake import Lake
from musicstream.settings import Settings
from musicstream.stages import OnStep, Work, lake_for, load_kpis
from musicstream.stages import no_step as _no_step
from musicstream.state import Batch, run_lock
from musicstream.summary import run_summary

log = logging.getLogger(__name__)


def run(
    settings: Settings, on_step: OnStep = _no_step, clock: datetime | None = None
) -> dict[str, Any]:
    """Process the landing zone once: finish any interrupted batch, then the new files."""
    lake = lake_for(settings)
    started = time.monotonic()
    done: list[Batch] = []
    in_flight: list[Batch] = []  # the batch a failure interrupts: the failure summary names it
    try:
        with run_lock(lake, settings.lock_timeout_s, lease_s=settings.lock_lease_s):
            work = Work(settings, lake, on_step)
            for batch in work.unfinished():  # an interrupted run's
                in_flight[:] = [batch]
                finish(work, batch)
                done.append(batch)
            planned = work.plan(clock)
            if planned is not None:
                in_flight[:] = [planned]
                finish(work, planned)
                done.append(planned)
    except Exception as exc:
        failed = [b for b in in_flight if b not in done]
        notify.notify(settings, run_summary(done + failed, time.monotonic() - started, error=exc))
        raise
    summary = run_summary(done, time.monotonic() - started)
    notify.notify(settings, summary)
    if summary["status"] == "rejected":
        raise QualityGateFailed(summary["error"])
    return summary


def finish(work: Work, batch: Batch) -> None:
    """Take one batch from wherever it stopped to archived, or to rejected by the gate."""
    try:
        work.validate(batch)
        if not gate.verdict(batch)["passed"]:
            work.reject(batch)
            return
        work.compute(batch)
        work.close_engine()  # the engine's memory is free before the store load
        work.load(batch)
        work.archive(batch)
    finally:
        work.close_engine()


def backfill(
    settings: Settings, date_from: date, date_to: date, on_step: OnStep = _no_step
) -> list[date]:
    """Recompute and reload every date in the range that has curated streams."""
    lake = lake_for(settings)
    with run_lock(lake, settings.lock_timeout_s, lease_s=settings.lock_lease_s):
        dates = [d for d in curated_dates(lake) if date_from <= d <= date_to]
        engine = create_engine(settings, lake)
        try:
            transform.compute_kpis(engine, dates)
        finally:
            engine.close()
        on_step("kpis")
        load_kpis(settings, lake, dates, on_step)
    return dates


def curated_dates(lake: Lake) -> list[date]:
    """Dates that have curated streams."""
    found = {p.split("/")[2] for p in lake.files("curated/streams") if p.endswith(".parquet")}
    return sorted(
        date.fromisoformat(f.split("=", 1)[1]) for f in found if f.startswith("report_date=")
    )
