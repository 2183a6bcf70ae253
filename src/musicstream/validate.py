"""Validate: admit each file (admit/), then let the engine check every row.

Two per-file boundaries keep one bad file from failing a batch: admission turns anything
wrong with reading a file into its file-level reason; and if the engine still fails on the
batch, each file is tried alone, the ones that fail alone are quarantined whole
(``unreadable_file`` with the error's line) and the rest are validated together. An error
of the machine (disk, memory) is not a file's fault and fails the run instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from musicstream import layout
from musicstream.admit import Admitted, admit
from musicstream.datasets import BY_NAME, QUARANTINE
from musicstream.engines import BatchContext, Engine, FileCounts, FileSpec, is_environment_error
from musicstream.lake import Lake, one_line
from musicstream.state import Batch, FileEntry

log = logging.getLogger(__name__)


def validate_dataset(
    engine: Engine,
    lake: Lake,
    dataset: str,
    entries: Sequence[FileEntry],
    ctx: BatchContext,
    folder: str,
    encoding: str = "utf-8",
) -> list[FileCounts]:
    """Validate one dataset's files of a batch and record the outcome on the entries."""
    admitted = [admit(lake, dataset, e, i, folder, encoding) for i, e in enumerate(entries)]
    specs = [a.spec for a in admitted if a.spec is not None]
    counts, failed = _engine_validate(engine, dataset, specs, ctx)
    by_index = {c.index: c for c in counts}
    return [_record(i, a, by_index, failed) for i, a in enumerate(admitted)]


def _engine_validate(
    engine: Engine, dataset: str, specs: list[FileSpec], ctx: BatchContext
) -> tuple[list[FileCounts], dict[int, str]]:
    """The engine's counts, and the files it could not validate (index → error line)."""
    try:
        return engine.validate(dataset, specs, ctx), {}
    except Exception as exc:
        if is_environment_error(exc) or not specs:
            raise
        log.warning("validating %s failed (%s); trying each file alone", dataset, one_line(exc))
        log.debug("validation error", exc_info=True)
        failed = {}
        for spec in specs:
            try:
                engine.validate(dataset, [spec], ctx)
            except Exception as alone:
                if is_environment_error(alone):
                    raise
                failed[spec.index] = one_line(alone)
        if not failed:
            raise  # the batch fails as a whole, no file alone: not a file's fault
        rest = [s for s in specs if s.index not in failed]
        return engine.validate(dataset, rest, ctx), failed


def _record(
    index: int, admitted: Admitted, counts: dict[int, FileCounts], failed: dict[int, str]
) -> FileCounts:
    entry, spec = admitted.entry, admitted.spec
    if admitted.changed:
        entry.skipped = admitted.detail
        return FileCounts(index)
    if spec is None or index in failed:
        reason = admitted.reason if spec is None else "unreadable_file"
        entry.reason = reason
        entry.detail = admitted.detail if spec is None else failed[index]
        assert reason is not None
        found = FileCounts(index, reasons={reason: 0})
    else:
        found = counts[index]
        entry.reason, entry.detail = spec.file_reason, _missing(spec)
        entry.columns = list(spec.header)  # for health.py's schema-change check
    entry.rows_read, entry.rows_kept = found.rows_read, found.rows_kept
    entry.rows_quarantined = found.rows_quarantined
    return found


def _missing(spec: FileSpec) -> str | None:
    if spec.file_reason != "missing_columns":
        return None
    missing = [c for c in BY_NAME[spec.path.split("/")[1]].required if c not in spec.header]
    return "lacks required column(s) " + ", ".join(missing)


def write_file_quarantine(lake: Lake, batch: Batch) -> None:
    """The files quarantined whole (``quarantine/files/batch_id=<id>/files.parquet``)."""
    whole = [f for f in batch.files if f.reason]
    rel = layout.file_quarantine_file(batch.batch_id)
    if not whole:
        lake.remove(rel)
        return
    rows = ((f.dataset, f.path, f.reason, f.detail, f.rows_read, f.sha256) for f in whole)
    lake.write_bytes(rel, QUARANTINE["files"].parquet(rows))
