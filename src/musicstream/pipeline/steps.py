"""The steps of a batch, each resumable on its own: the unit Airflow schedules.

plan → validate (and curate) → quality gate → compute KPIs → load → archive; a batch that
fails the gate is rejected instead. Each step reads the batch's status from the lake's
ledger, works only if the batch has not passed that step yet, and records the next status:

    planned → curated → computed → committed → archived
                      ↘ rejected (quality.py)

So a step can run in a process of its own (an Airflow task, a Spark or Glue job: tasks.py),
be retried, or be finished by a later ``musicstream run``, which takes a batch through all of
them with :meth:`Steps.finish`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from musicstream import archive, curate, ingest, layout, load, validate
from musicstream.datasets import DATASETS
from musicstream.engines import BatchContext, Engine, create_engine
from musicstream.errors import QualityGateFailed, UserError
from musicstream.lake import Lake, open_lake
from musicstream.pipeline import quality
from musicstream.settings import Settings
from musicstream.state import (
    ARCHIVED,
    COMMITTED,
    COMPUTED,
    CURATED,
    PLANNED,
    REJECTED,
    Batch,
    Ledger,
    run_lock,
)
from musicstream.stores import Load, create_store

OnStep = Callable[[str], None]
ORDER = (PLANNED, CURATED, COMPUTED, COMMITTED, ARCHIVED)


BACKFILL = "backfill"  # the batch id a load records when no batch made it (backfill, repair)


def no_step(name: str) -> None:
    """Default step hook; the CLI's progress display and the crash tests use their own."""


def lake_for(settings: Settings) -> Lake:
    """The settings' lake, which must exist (a user error otherwise)."""
    lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    lake.require()
    return lake


class Steps:
    """One process's turn at the lake under the run lock: the ledger, the steps, an engine."""

    def __init__(self, settings: Settings, lake: Lake, on_step: OnStep = no_step) -> None:
        self.settings, self.lake, self.on_step = settings, lake, on_step
        self.ledger = Ledger(lake)
        self._engine: Engine | None = None

    @classmethod
    @contextmanager
    def locked(
        cls, settings: Settings, lake: Lake | None = None, on_step: OnStep = no_step
    ) -> Iterator[Steps]:
        """The lake's run lock held, and the steps' engine closed at the end."""
        lake = lake or lake_for(settings)
        with run_lock(lake, settings.lock_timeout_s, lease_s=settings.lock_lease_s):
            steps = cls(settings, lake, on_step)
            try:
                yield steps
            finally:
                steps.close_engine()

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

    def finish(self, batch: Batch) -> None:
        """Take one batch from wherever it stopped to archived, or to rejected by the gate."""
        try:
            self.validate(batch)
            if not quality.verdict(batch)["passed"]:
                self.reject(batch)
                return
            self.compute(batch)
            self.close_engine()  # the engine's memory is free before the store load
            self.load(batch)
            self.archive(batch)
        finally:
            self.close_engine()

    def plan(self, clock: datetime | None = None) -> Batch | None:
        """Record the new landing files as a batch, with the run clock and quality gate."""
        now = (clock or datetime.now(UTC)).replace(microsecond=0)
        batch = ingest.plan_batch(self.lake, self.ledger, now, self.settings.settle_s)
        if batch is None:
            return None
        while self.lake.exists(layout.manifest(batch.batch_id)):  # same files, same second
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
            curate.save_before_images(self.lake, batch)
        ctx = BatchContext(batch.batch_id, batch.clock_dt, self.settings.future_tolerance_s)
        rows: list[dict[str, Any]] = []
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
                rows += quality.quality_rows(dataset.name, counts)
                self.on_step(f"validate:{dataset.name}")
                if dataset.is_dimension:  # upserted into curated/<dataset>/
                    self.engine.curate_dimension(dataset.name, batch.batch_id)
                else:  # only the dates the batch touched are recomputed (SPEC §4)
                    dates = self.engine.curate_streams(ctx)
                self.on_step(f"curate:{dataset.name}")
        validate.write_file_quarantine(self.lake, batch)
        batch.quality, batch.dates = rows, [d.isoformat() for d in dates]
        self._advance(batch, CURATED, started)

    def compute(self, batch: Batch) -> None:
        """curated → computed: every KPI of the touched dates, and the batch's quality table."""
        if not _due(batch, CURATED):
            return
        verdict = quality.verdict(batch)
        if not verdict["passed"]:  # the gate cannot be skipped, whoever calls this
            raise QualityGateFailed(quality.message(verdict))
        started = time.monotonic()
        self.compute_dates([date.fromisoformat(d) for d in batch.dates])
        quality.write_batch_quality(self.lake, batch.batch_id, batch.quality)
        self.on_step("quality")
        self._advance(batch, COMPUTED, started)

    def load(self, batch: Batch) -> None:
        """computed → committed: the store's rows of each touched date replaced."""
        if not _due(batch, COMPUTED):
            return
        started = time.monotonic()
        self.load_dates([date.fromisoformat(d) for d in batch.dates], changes_of=batch.batch_id)
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
        curate.discard_before_images(self.lake, batch)

    def reject(self, batch: Batch) -> None:
        """curated → rejected: curation undone; quarantine, quality and raw files kept."""
        if batch.status == REJECTED:
            return
        if batch.status != CURATED:
            raise UserError(f"batch {batch.batch_id} is {batch.status}: only a curated one")
        started = time.monotonic()
        self.close_engine()  # its in-memory dimensions still hold the rejected rows
        curate.roll_back(self.lake, batch)
        quality.write_batch_quality(self.lake, batch.batch_id, batch.quality)
        archive.archive_batch(self.lake, batch)
        self._advance(batch, REJECTED, started)
        curate.discard_before_images(self.lake, batch)

    def recompute(self, dates: Sequence[date]) -> None:
        """The KPIs of ``dates`` computed again and loaded: a backfill, a repair."""
        self.compute_dates(dates)
        self.close_engine()
        self.load_dates(dates)

    def compute_dates(self, dates: Sequence[date]) -> None:
        """Each date from all its curated streams, so late data restates its day."""
        if dates:
            self.engine.write_kpis(sorted(dates))
        self.on_step("kpis")

    def load_dates(self, dates: Sequence[date], changes_of: str | None = None) -> None:
        """Per-date replacement in the store of every KPI table of ``dates`` (and of their
        periods); with ``changes_of``, that batch's changed dimension rows upserted too. The
        store then records the load (batch id, or ``backfill``), for ``/health``."""
        store = create_store(self.settings)
        try:
            load.load_dates(self.lake, store, dates, on_date=lambda d: self.on_step(f"load:{d}"))
            if changes_of is not None:
                load.load_changes(self.lake, store, changes_of)
            store.record_load(Load.now(changes_of or BACKFILL, dates, store.last_load()))
        finally:
            store.close()

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
