"""The steps of a batch, each resumable on its own: the unit Airflow schedules.

plan → validate (and curate) → quality gate → compute KPIs → load → archive; a batch that
fails the gate is rejected instead. Each step reads the batch's status from the lake's
ledger, works only if the batch has not passed that step yet, and records the next status:

    planned → curated → computed → committed → archived
                      ↘ rejected (gate.py)

So a step can run in a process of its own (an Airflow task, a Spark or Glue job), be
retried, or be finished by a later ``musicstream run``. ``pipeline.run`` composes the same
steps of :class:`Work` under one lock; the functions below it are the one-step-per-process
entry points: each holds the lake's lock for its step and returns a small JSON-able result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from musicstream import archive, curate, gate, ingest, load, transform, validate
from musicstream.datasets import DATASETS
from musicstream.engines import BatchContext, Engine, create_engine
from musicstream.errors import QualityGateFailed, UserError
from musicstream.lake import Lake, open_lake
from musicstream.settings import Settings
from musicstream.state import (
    ARCHIVED,
    BATCHES,
    COMMITTED,
    COMPUTED,
    CURATED,
    PLANNED,
    REJECTED,
    Batch,
    Ledger,
    run_lock,
)
from musicstream.stores import create_store
from musicstream.summary import run_summary

OnStep = Callable[[str], None]
ORDER = (PLANNED, CURATED, COMPUTED, COMMITTED, ARCHIVED)


def no_step(name: str) -> None:
    """Default step hook; the CLI's progress display and the crash tests use their own."""


def lake_for(settings: Settings) -> Lake:
    lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    lake.require()
    return lake


class Work:
    """One process's turn at the lake under the run lock: the ledger, the steps, an engine."""

    def __init__(self, settings: Settings, lake: Lake, on_step: OnStep = no_step) -> None:
        self.settings, self.lake, self.on_step = settings, lake, on_step
        self.ledger = Ledger(lake)
        self._engine: Engine | None = None

    def __enter__(self) -> Work:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close_engine()

    @property
    def engine(self) -> Engine:
        """Created on first use: planning, the gate, loading and archiving need none."""
        if self._engine is None:
            self._engine = create_engine(self.settings, self.lake)
        return self._engine

    def close_engine(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def batch(self, batch_id: str) -> Batch:
        try:
            return self.ledger.get(batch_id)
        except FileNotFoundError:
            raise UserError(f"no batch {batch_id} in the ledger of {self.lake.url}") from None

    def unfinished(self) -> list[Batch]:
        return [b for b in self.ledger.batches() if b.status not in (ARCHIVED, REJECTED)]

    def plan(self, clock: datetime | None = None) -> Batch | None:
        """Record the new landing files as a batch, with the run clock and quality gate."""
        now = (clock or datetime.now(UTC)).replace(microsecond=0)
        batch = ingest.plan_batch(self.lake, self.ledger, now, self.settings.settle_s)
        if batch is None:
            return None
        while self.lake.exists(f"{BATCHES}/{batch.batch_id}.json"):  # same files, same second
            now += timedelta(seconds=1)
            batch.batch_id, batch.clock = ingest.batch_id(now, batch.files), now.isoformat()
        batch.max_bad_ratio = self.settings.max_bad_ratio
        self.ledger.save(batch)
        return batch

    def validate(self, batch: Batch) -> None:
        """planned → curated: dimensions before streams; bad rows to the quarantine."""
        if not _due(batch, PLANNED):
            return
        started = time.monotonic()
        if batch.max_bad_ratio < 1:
            gate.save_before_images(self.lake, batch)
        ctx = BatchContext(batch.batch_id, batch.clock_dt, self.settings.future_tolerance_s)
        quality: list[dict[str, Any]] = []
        dates: list[date] = []
        with self.lake.staging() as folder:  # admitted files live until curation is done
            for dataset in DATASETS:
                entries = batch.data_files(dataset.name)
                if not entries:
                    continue
                counts = validate.validate_dataset(
                    self.engine,
                    self.lake,
                    dataset.name,
                    entries,
                    ctx,
                    folder,
                    self.settings.input_encoding,
                )
                quality += transform.quality_rows(dataset.name, counts)
                self.on_step(f"validate:{dataset.name}")
                if dataset.is_dimension:
                    curate.curate_dimension(self.engine, dataset.name)
                else:
                    dates = curate.curate_streams(self.engine, ctx)
                self.on_step(f"curate:{dataset.name}")
        validate.write_file_quarantine(self.lake, batch)
        batch.quality, batch.dates = quality, [d.isoformat() for d in dates]
        self._advance(batch, CURATED, started)

    def compute(self, batch: Batch) -> None:
        """curated → computed: every KPI of the touched dates, and the batch's quality table."""
        if not _due(batch, CURATED):
            return
        verdict = gate.verdict(batch)
        if not verdict["passed"]:  # the gate cannot be skipped, whoever calls this
            raise QualityGateFailed(gate.message(verdict))
        started = time.monotonic()
        transform.compute_kpis(self.engine, [date.fromisoformat(d) for d in batch.dates])
        self.on_step("kpis")
        transform.write_batch_quality(self.lake, batch.batch_id, batch.quality)
        self.on_step("quality")
        self._advance(batch, COMPUTED, started)

    def load(self, batch: Batch) -> None:
        """computed → committed: the store's rows of each touched date replaced."""
        if not _due(batch, COMPUTED):
            return
        started = time.monotonic()
        days = [date.fromisoformat(d) for d in batch.dates]
        load_kpis(self.settings, self.lake, days, self.on_step)
        self._advance(batch, COMMITTED, started)
        self.on_step("commit")

    def archive(self, batch: Batch) -> None:
        """committed → archived: the raw files moved out of landing."""
        if not _due(batch, COMMITTED):
            return
        started = time.monotonic()
        archive.archive_batch(self.lake, batch)
        self.on_step("archive")
        self._advance(batch, ARCHIVED, started)
        if batch.max_bad_ratio < 1:
            gate.discard_before_images(self.lake, batch)

    def reject(self, batch: Batch) -> None:
        """curated → rejected: curation undone; quarantine, quality and raw files kept."""
        if batch.status == REJECTED:
            return
        if batch.status != CURATED:
            raise UserError(f"batch {batch.batch_id} is {batch.status}: only a curated one")
        started = time.monotonic()
        self.close_engine()  # its in-memory dimensions still hold the rejected rows
        gate.roll_back(self.lake, batch)
        transform.write_batch_quality(self.lake, batch.batch_id, batch.quality)
        archive.archive_batch(self.lake, batch)
        self._advance(batch, REJECTED, started)
        gate.discard_before_images(self.lake, batch)

    def _advance(self, batch: Batch, status: str, started: float) -> None:
        batch.status = status
        batch.duration_s = round((batch.duration_s or 0.0) + time.monotonic() - started, 3)
        self.ledger.save(batch)


def _due(batch: Batch, status: str) -> bool:
    """True when the batch is at ``status``, False when past it; an error when before it."""
    if batch.status == REJECTED:
        if status == PLANNED:
            return False
        raise QualityGateFailed(f"batch {batch.batch_id} was rejected by the quality gate")
    if ORDER.index(batch.status) < ORDER.index(status):
        raise UserError(f"batch {batch.batch_id} is only {batch.status}, not yet {status}")
    return batch.status == status


def load_kpis(settings: Settings, lake: Lake, dates: Sequence[date], on_step: OnStep) -> None:
    store = create_store(settings)
    try:
        load.load_dates(lake, store, dates, on_date=lambda d: on_step(f"load:{d}"))
    finally:
        store.close()


# -- one step per process (Airflow tasks, `musicstream stage`, Spark/Glue jobs) ------------


@contextmanager
def _turn(settings: Settings) -> Iterator[Work]:
    lake = lake_for(settings)
    with (
        run_lock(lake, settings.lock_timeout_s, lease_s=settings.lock_lease_s),
        Work(settings, lake) as work,
    ):
        yield work


def plan_batch(settings: Settings, clock: datetime | None = None) -> dict[str, Any] | None:
    """The batch to work on: the oldest unfinished one, else the new landing files; or None."""
    with _turn(settings) as work:
        pending = work.unfinished()
        batch = pending[0] if pending else work.plan(clock)
        return None if batch is None else brief(batch)


def _step(settings: Settings, batch_id: str, step: Callable[[Work, Batch], None]) -> dict[str, Any]:
    with _turn(settings) as work:
        batch = work.batch(batch_id)
        step(work, batch)
        return brief(batch)


def validate_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Work.validate)


def compute_batch_kpis(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Work.compute)


def load_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Work.load)


def archive_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Work.archive)


def reject_batch(settings: Settings, batch_id: str) -> dict[str, Any]:
    return _step(settings, batch_id, Work.reject)


def check_quality(settings: Settings, batch_id: str) -> dict[str, Any]:
    """The gate's verdict on a validated batch (read-only: no lock)."""
    return gate.verdict(Work(settings, lake_for(settings)).batch(batch_id))


def summarize(
    settings: Settings, batch_id: str | None, error: BaseException | str | None = None
) -> dict[str, Any]:
    """The run summary of one batch, as ``pipeline.run`` reports it, for notifications."""
    batches = [] if batch_id is None else [Work(settings, lake_for(settings)).batch(batch_id)]
    return run_summary(batches, sum(b.duration_s or 0.0 for b in batches), error)


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
