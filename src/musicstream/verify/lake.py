"""The lake against itself: the ledger's batches against their curated stream files, and
the curated streams against the KPI partitions computed from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pyarrow.parquet as pq

from musicstream import layout
from musicstream.datasets import KPI_COLUMNS, KPI_TABLES, PERIOD_TABLES
from musicstream.lake import Lake
from musicstream.periods import periods_of
from musicstream.state import ARCHIVED, COMMITTED, Batch, Ledger
from musicstream.verify.findings import Finding, Part, Repairs

# A date with kept streams always has rows in these (and so do its periods). Not in
# top_artists_daily when no song streamed that day credits an artist (``artists`` is optional).
ALWAYS = tuple(t for t in KPI_COLUMNS if t != "top_artists_daily")


def check_ledger(lake: Lake, days: Sequence[date], repairs: Repairs) -> list[Finding]:
    """Each committed or archived batch with a date in ``days``: its curated stream files
    exist and hold the kept streams the ledger recorded. A damaged manifest is a finding.
    Batches still on their way (planned … computed) are the next run's to finish."""
    batches, damaged = Ledger(lake).scan()
    fix = f"musicstream repair --lake {lake.url}"
    found = [Finding("ledger", None, str(exc), fix) for exc in damaged]
    wanted = {d.isoformat() for d in days}
    for batch in batches:
        if batch.status in (COMMITTED, ARCHIVED) and wanted.intersection(batch.dates):
            found += _check_batch(lake, batch, wanted, repairs)
    return found


def _check_batch(lake: Lake, batch: Batch, wanted: set[str], repairs: Repairs) -> list[Finding]:
    """A lost file of the batch's dates in ``wanted``; and, when none of its files is lost,
    a row count other than the one recorded (a file replaced or truncated)."""
    recorded = kept_streams(batch)
    counts = {d: _row_count(lake, layout.stream_file(d, batch.batch_id)) for d in batch.dates}
    found = []
    what = "curated streams" if recorded is None else f"recorded {recorded} kept stream(s)"
    for d in (d for d, n in counts.items() if n is None and d in wanted):
        rel, day = layout.stream_file(d, batch.batch_id), date.fromisoformat(d)
        problem = f"{rel} is missing: batch {batch.batch_id} {what} over {len(counts)} date(s)"
        found.append(Finding("curated", day, problem, repairs.restore(rel, day, day)))
    held = [n for n in counts.values() if n is not None]
    if recorded is not None and len(held) == len(counts) and sum(held) != recorded:
        first, last = date.fromisoformat(batch.dates[0]), date.fromisoformat(batch.dates[-1])
        rel = layout.stream_file("*", batch.batch_id)
        problem = (
            f"batch {batch.batch_id} recorded {recorded} kept stream(s), {rel} hold {sum(held)}"
        )
        found.append(Finding("curated", first, problem, repairs.restore(rel, first, last)))
    return found


def kept_streams(batch: Batch) -> int | None:
    """The streams a batch kept, per its ledger entry: its files' counts; for a manifest
    ``repair`` rebuilt (per-file counts lost, all 0) its quality rows, which ``repair``
    rebuilds from ``batch_quality``; None when neither tells."""
    files = batch.data_files("streams")
    if any(f.rows_read for f in files):
        return sum(f.rows_kept for f in files)
    kept = [
        q["rows"]
        for q in batch.quality
        if (q.get("dataset"), q.get("reason")) == ("streams", "kept")
    ]
    return sum(kept) if kept else None


def _row_count(lake: Lake, rel: str) -> int | None:
    """Rows of a Parquet file from its footer (a ranged read on S3); None when it is gone."""
    try:
        with lake.fs.open(lake.path(rel), "rb") as fh:
            return int(pq.ParquetFile(fh).metadata.num_rows)
    except FileNotFoundError:
        return None


def check_kpis(
    tables: Sequence[str],
    days: Sequence[date],
    curated: set[date],
    files: set[str],
    explained: set[date | None],
    repairs: Repairs,
) -> list[Finding]:
    """A date with curated streams lacks a KPI partition such a date always has; a date
    with KPI partitions has no curated streams (unless a lost curated file, ``explained``,
    accounts for it: that finding says what to do)."""
    found = []
    for day in days:
        if day in curated:
            parts = kpi_parts(tables, [day])
            lacking = sorted({p.table for p in parts if kpi_missing(p, curated, files)})
            if lacking:
                problem = f"the lake has no {', '.join(lacking)} rows for a date with streams"
                found.append(Finding("kpis", day, problem, repairs.backfill(day, day)))
        elif day not in explained and any(Part(t, day).file() in files for t in tables):
            problem = "KPI partitions, but no curated streams (backfill skips such a date)"
            repair = repairs.restore(f"{layout.stream_day(day)}/", day, day)
            found.append(Finding("kpis", day, problem, repair))
    return found


def kpi_parts(tables: Sequence[str], days: Sequence[date]) -> list[Part]:
    """The partitions of ``tables`` that ``days`` touch: each date's, each period's."""
    dated = [Part(t, d) for d in days for t in tables if t in KPI_TABLES]
    periods = periods_of(days)
    return dated + [Part(t, p.start, p.kind) for t in tables if t in PERIOD_TABLES for p in periods]


def kpi_missing(part: Part, curated: set[date], files: set[str]) -> bool:
    """A partition that the curated streams of its dates always give is not in the lake."""
    if part.table not in ALWAYS or part.file() in files:
        return False
    first, last = part.span
    return first in curated or any(first <= d <= last for d in curated)
