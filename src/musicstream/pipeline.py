"""The pipeline, top to bottom: plan → validate → curate → transform → load → archive → notify.

Every step is idempotent and a batch's plan (files, run clock) is saved before any work,
so a run killed anywhere and started again finishes the same batch the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from musicstream import archive, curate, ingest, load, notify, transform, validate
from musicstream.datasets import DATASETS
from musicstream.engines import BatchContext, create_engine
from musicstream.lake import Lake, open_lake
from musicstream.settings import Settings
from musicstream.state import ARCHIVED, COMMITTED, PLANNED, Batch, Ledger, run_lock
from musicstream.stores import create_store

log = logging.getLogger(__name__)

OnStep = Callable[[str], None]


def _no_step(name: str) -> None:
    """Default step hook; the CLI's progress display and the crash tests use their own."""


def lake_for(settings: Settings) -> Lake:
    lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    lake.require()
    return lake


def run(
    settings: Settings, on_step: OnStep = _no_step, clock: datetime | None = None
) -> dict[str, Any]:
    """Process the landing zone once: finish any interrupted batch, then the new files."""
    lake = lake_for(settings)
    started = time.monotonic()
    done: list[Batch] = []
    try:
        with run_lock(lake, settings.lock_timeout_s):
            ledger = Ledger(lake)
            for batch in [b for b in ledger.batches() if b.status != ARCHIVED]:
                process_batch(settings, lake, ledger, batch, on_step)  # an interrupted run's
                done.append(batch)
            now = (clock or datetime.now(UTC)).replace(microsecond=0)
            planned = ingest.plan_batch(lake, ledger, now)
            if planned is not None:
                ledger.save(planned)
                process_batch(settings, lake, ledger, planned, on_step)
                done.append(planned)
    except Exception as exc:
        notify.notify(settings, run_summary(done, started, error=exc))
        raise
    summary = run_summary(done, started)
    notify.notify(settings, summary)
    return summary


def process_batch(
    settings: Settings, lake: Lake, ledger: Ledger, batch: Batch, on_step: OnStep
) -> None:
    """Take one batch from wherever it stopped to archived."""
    if batch.status == PLANNED:
        batch_started = time.monotonic()
        dates, quality = validate_and_curate(settings, lake, batch, on_step)
        transform.write_batch_quality(lake, batch.batch_id, quality)
        on_step("quality")
        load_kpis(settings, lake, dates, on_step)
        batch.dates = [d.isoformat() for d in dates]
        batch.quality = quality
        batch.duration_s = round(time.monotonic() - batch_started, 3)
        batch.status = COMMITTED
        ledger.save(batch)
        on_step("commit")
    if batch.status == COMMITTED:
        archive.archive_batch(lake, batch)
        on_step("archive")
        batch.status = ARCHIVED
        ledger.save(batch)


def validate_and_curate(
    settings: Settings, lake: Lake, batch: Batch, on_step: OnStep
) -> tuple[list[date], list[dict[str, Any]]]:
    """Dimensions before streams; then the KPIs of every date the kept streams touch."""
    ctx = BatchContext(batch.batch_id, batch.clock_dt, settings.future_tolerance_s)
    engine = create_engine(settings, lake)
    dates: list[date] = []
    quality: list[dict[str, Any]] = []
    try:
        for dataset in DATASETS:
            entries = batch.data_files(dataset.name)
            if not entries:
                continue
            counts = validate.validate_dataset(engine, lake, dataset.name, entries, ctx)
            quality += transform.quality_rows(dataset.name, counts)
            on_step(f"validate:{dataset.name}")
            if dataset.is_dimension:
                curate.curate_dimension(engine, dataset.name)
            else:
                dates = curate.curate_streams(engine, ctx)
            on_step(f"curate:{dataset.name}")
        transform.compute_kpis(engine, dates)
        on_step("kpis")
    finally:
        engine.close()
    return dates, quality


def load_kpis(settings: Settings, lake: Lake, dates: list[date], on_step: OnStep) -> None:
    store = create_store(settings)
    try:
        load.load_dates(lake, store, dates, on_date=lambda d: on_step(f"load:{d}"))
    finally:
        store.close()


def backfill(
    settings: Settings, date_from: date, date_to: date, on_step: OnStep = _no_step
) -> list[date]:
    """Recompute and reload every date in the range that has curated streams."""
    lake = lake_for(settings)
    with run_lock(lake, settings.lock_timeout_s):
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


def run_summary(
    batches: list[Batch], started: float, error: Exception | None = None
) -> dict[str, Any]:
    """What happened, for people (CLI) and machines (webhook, SNS, Airflow XCom)."""
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
    return {
        "status": "failed" if error else ("ok" if batches else "nothing_new"),
        "batch_ids": [b.batch_id for b in batches],
        "files": sum(len(b.files) for b in batches),
        "datasets": datasets,
        "dates": sorted({d for b in batches for d in b.dates}),
        "duration_s": round(time.monotonic() - started, 3),
        "error": f"{type(error).__name__}: {error}" if error else None,
        "batches": [asdict(b) for b in batches],
    }
