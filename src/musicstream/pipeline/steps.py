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

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from musicstream import archive, curate, ingest, interrupts, load, validate, verify
from musicstream.datasets import DATASETS
from musicstream.engines import BatchContext, Engine, create_engine
from musicstream.errors import QualityGateFailed, StoreMismatch, UserError
from musicstream.lake import Lake, open_lake
from musicstream.pipeline import quality
from musicstream.pipeline.stages import Display, NoDisplay, stage
from musicstream.settings import Settings
from musicstream.state import (
    ARCHIVED,
    COMMITTED,
    COMPUTED,
    CURATED,
    PLANNED,
    REJECTED,
    Batch,
    FileEntry,
    Ledger,
    run_lock,
)
from musicstream.stores import Load, Store, create_store, store_errors, store_name

log = logging.getLogger(__name__)
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

    def __init__(
        self,
        settings: Settings,
        lake: Lake,
        on_step: OnStep = no_step,
        display: Display | None = None,
    ) -> None:
        self.settings, self.lake, self.display = settings, lake, display or NoDisplay()
        self._on_step = on_step
        self.ledger = Ledger(lake)
        self._engine: Engine | None = None
        self._uncancel: Callable[[], object] | None = None

    @classmethod
    @contextmanager
    def locked(
        cls,
        settings: Settings,
        lake: Lake | None = None,
        on_step: OnStep = no_step,
        display: Display | None = None,
    ) -> Iterator[Steps]:
        """The lake's run lock held, and the steps' engine closed at the end. Scratch that
        killed runs left behind is removed first (only the lock's holder writes)."""
        lake = lake or lake_for(settings)
        with run_lock(lake, settings.lock_timeout_s, lease_s=settings.lock_lease_s):
            lake.sweep_scratch()
            steps = cls(settings, lake, on_step, display)
            try:
                yield steps
            finally:
                steps.close_engine()

    @property
    def engine(self) -> Engine:
        """Created on first use: planning, the gate, loading and archiving need none. A
        stop signal interrupts its running query (interrupts.py)."""
        if self._engine is None:
            self._engine = create_engine(self.settings, self.lake)
            self._uncancel = interrupts.on_signal(self._engine.interrupt)
        return self._engine

    def close_engine(self) -> None:
        if self._uncancel is not None:
            self._uncancel()
            self._uncancel = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def on_step(self, name: str) -> None:
        """A step boundary: the hook hears of it (progress, crash tests); a safe point."""
        self._on_step(name)
        interrupts.check()

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
        with stage("plan", None, self.display) as planning:
            batch = ingest.plan_batch(self.lake, self.ledger, now, self.settings.settle_s)
            if batch is None:
                planning.fields["files"] = 0
                return None
            batch.max_bad_ratio = self.settings.max_bad_ratio
            planning.batch = batch
            planning.fields.update(batch_id=batch.batch_id, files=len(batch.files))
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
                name = f"validate:{dataset.name}"
                with stage(name, batch, self.display, files=len(entries)) as validating:
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
                    validating.fields.update(_row_counts(entries))
                self.on_step(name)
                with stage(f"curate:{dataset.name}", batch, self.display) as curating:
                    if dataset.is_dimension:  # upserted into curated/<dataset>/
                        self.engine.curate_dimension(dataset.name, batch.batch_id)
                    else:  # only the dates the batch touched are recomputed (SPEC §4)
                        dates = self.engine.curate_streams(ctx)
                        curating.fields["dates"] = len(dates)
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
        self.compute_dates([date.fromisoformat(d) for d in batch.dates], batch)
        with stage("quality", batch, self.display):
            quality.write_batch_quality(self.lake, batch.batch_id, batch.quality)
            self._advance(batch, COMPUTED, started)
        self.on_step("quality")

    def load(self, batch: Batch) -> None:
        """computed → committed: the store's rows of each touched date replaced."""
        if not _due(batch, COMPUTED):
            return
        started = time.monotonic()
        batch.store_items = self.load_dates([date.fromisoformat(d) for d in batch.dates], batch)
        batch.loaded_at = round(time.time(), 3)
        self._advance(batch, COMMITTED, started)
        self.on_step("commit")

    def archive(self, batch: Batch) -> None:
        """committed → archived: the raw files moved out of landing."""
        if not _due(batch, COMMITTED):
            return
        started = time.monotonic()
        with stage("archive", batch, self.display, files=len(batch.files)):
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
        with stage("reject", batch, self.display, files=len(batch.files)):
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

    def compute_dates(self, dates: Sequence[date], batch: Batch | None = None) -> None:
        """Each date from all its curated streams, so late data restates its day."""
        with stage("kpis", batch or BACKFILL, self.display, dates=len(dates)):
            if dates:
                self.engine.write_kpis(sorted(dates))
        self.on_step("kpis")

    def load_dates(self, dates: Sequence[date], batch: Batch | None = None) -> int:
        """Per-date replacement in the store of every KPI table of ``dates`` (and of their
        periods); for a ``batch``, its changed dimension rows upserted too. The store then
        records the load (batch id, or ``backfill``), for ``/health``. Returns the rows
        written."""
        batch_id = BACKFILL if batch is None else batch.batch_id
        with store_errors(self.settings):
            store = create_store(self.settings)
            try:
                with stage("load", batch or BACKFILL, self.display, len(dates)) as loading:

                    def loaded(day: date) -> None:
                        loading.advance()
                        self.on_step(f"load:{day}")

                    written = load.load_dates(self.lake, store, dates, on_date=loaded)
                    if batch is not None:
                        written += load.load_changes(self.lake, store, batch.batch_id)
                    loading.fields.update(dates=len(dates), store_items=written)
                self._verify(store, dates, batch)
                previous = store.last_load()
                if previous is None:
                    self._warn_if_new_store(dates)
                store.record_load(Load.now(batch_id, dates, previous))
            finally:
                store.close()
        return written

    def _warn_if_new_store(self, dates: Sequence[date]) -> None:
        """A store with no load recorded on a lake with other dates: it was deleted or
        replaced, and now holds only ``dates``. Say how to rebuild it."""
        others = [d for d in curate.curated_dates(self.lake) if d not in set(dates)]
        if others:
            log.warning(
                "%s had no load recorded: it was new or emptied, and now holds only the dates "
                "just loaded, not the lake's other %d; rebuild it from the lake with "
                "`musicstream backfill --from %s --to %s`",
                store_name(self.settings),
                len(others),
                min(others),
                max(others),
            )

    def _verify(self, store: Store, dates: Sequence[date], batch: Batch | None) -> None:
        """The store against the lake for the dates just loaded, before the batch moves on:
        a mismatch fails the run loudly (the batch stays computed: the next run loads it
        again). Cheap: the same reads as the load."""
        with stage("verify", batch or BACKFILL, self.display, dates=len(dates)) as checking:
            findings = verify.verify_loaded(self.lake, store, dates)
            checking.fields["differences"] = len(findings)
        if findings:
            first = findings[0]
            where = f"{first.table} {first.day}" + (f" ({first.period})" if first.period else "")
            raise StoreMismatch(
                f"{store_name(self.settings)} does not match the lake after loading: "
                f"{len(findings)} difference(s), first {where}: {first.problem}; "
                "`musicstream verify` lists them all"
            )

    def _advance(self, batch: Batch, status: str, started: float) -> None:
        batch.status = status
        batch.duration_s = round((batch.duration_s or 0.0) + time.monotonic() - started, 3)
        self.ledger.save(batch)


def _row_counts(entries: Sequence[FileEntry]) -> dict[str, int]:
    return {
        "rows_read": sum(f.rows_read for f in entries),
        "rows_kept": sum(f.rows_kept for f in entries),
        "rows_quarantined": sum(f.rows_quarantined for f in entries),
    }


def _due(batch: Batch, status: str) -> bool:
    """True when the batch is at ``status``, False when past it; an error when before it."""
    if batch.status == REJECTED:
        if status == PLANNED:
            return False
        raise QualityGateFailed(f"batch {batch.batch_id} was rejected by the quality gate")
    if ORDER.index(batch.status) < ORDER.index(status):
        raise UserError(f"batch {batch.batch_id} is only {batch.status}, not yet {status}")
    return batch.status == status
