"""What one batch brought against the batches before it: quarantine rate per reason,
and the columns of its files."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from musicstream import layout
from musicstream.health.ledger import HealthWarning
from musicstream.settings import Settings
from musicstream.state import PLANNED, REJECTED, Batch

HISTORY_BATCHES = 10  # a quarantine rate's history


def reason_rows(batch: Batch) -> dict[str, tuple[int, dict[str, int]]]:
    """Per dataset the batch read rows of: rows read, and rows of each reason or warning."""
    out: dict[str, tuple[int, dict[str, int]]] = {}
    for dataset in sorted({f.dataset for f in batch.files}):
        read = sum(f.rows_read for f in batch.data_files(dataset))
        if read:
            out[dataset] = (read, {})
    for q in batch.quality:
        if q["dataset"] in out and q["reason"] != "kept":
            out[q["dataset"]][1][q["reason"]] = q["rows"]
    return out


def check_quarantine_rate(
    settings: Settings, batch: Batch, previous: Iterable[Batch]
) -> list[HealthWarning]:
    """Each reason's rate against its median over the previous batches (newest first)."""
    mine = reason_rows(batch)
    history = _rate_history(mine, previous)
    found = []
    for dataset, (read, reasons) in mine.items():
        past = history[dataset]
        if len(past) < settings.quarantine_min_history:
            continue
        for reason, rows in sorted(reasons.items()):
            baseline = statistics.median(n.get(reason, 0) / total for total, n in past)
            limit = max(baseline * settings.quarantine_rate_factor, settings.quarantine_min_rate)
            if rows >= settings.quarantine_min_rows and rows / read > limit:
                found.append(_rate_warning(batch, dataset, reason, rows, read, baseline, len(past)))
    return found


def _rate_history(
    mine: dict[str, Any], previous: Iterable[Batch]
) -> dict[str, list[tuple[int, dict[str, int]]]]:
    """Up to HISTORY_BATCHES earlier rows per dataset, reading no further than needed."""
    history: dict[str, list[tuple[int, dict[str, int]]]] = {d: [] for d in mine}
    for before in previous:
        if before.status in (PLANNED, REJECTED):
            continue
        for dataset, rows in reason_rows(before).items():
            if len(history.get(dataset, ())) < HISTORY_BATCHES:
                history.get(dataset, []).append(rows)
        if all(len(h) >= HISTORY_BATCHES for h in history.values()):
            break
    return history


def _rate_warning(
    batch: Batch, dataset: str, reason: str, rows: int, read: int, baseline: float, n: int
) -> HealthWarning:
    rate = rows / read
    message = (
        f"batch {batch.batch_id}: {rows:,} of {read:,} {dataset} rows ({rate:.1%}) are "
        f"{reason}, against a median {baseline:.1%} over the previous {n} batches"
    )
    numbers = {"rows": rows, "read": read, "rate": round(rate, 6), "baseline": baseline}
    return HealthWarning(
        "quarantine_rate", message, batch.batch_id, dataset, reason=reason, numbers=numbers
    )


def _header_files(batch: Batch, dataset: str) -> list[tuple[str, list[str]]]:
    """(path, columns) of the dataset's files whose header was read, replays left out."""
    return [
        (f.path, f.columns)
        for f in batch.files
        if f.dataset == dataset
        and f.columns is not None
        and not f.path.startswith(layout.REPLAY_LANDING + "/")
    ]


def check_schema(batch: Batch, previous: Iterable[Batch]) -> list[HealthWarning]:
    """Columns no file of the previous batch had (added), or all of them had (missing)."""
    mine = {
        d: h for d in sorted({f.dataset for f in batch.files}) if (h := _header_files(batch, d))
    }
    before: dict[str, list[tuple[str, list[str]]]] = {}
    for earlier in previous:
        for dataset in mine.keys() - before.keys():
            if found_files := _header_files(earlier, dataset):
                before[dataset] = found_files
        if before.keys() == mine.keys():
            break
    found = []
    for dataset, files in mine.items():
        if dataset not in before:
            continue
        seen = set().union(*(cols for _, cols in before[dataset]))
        always = set.intersection(*(set(cols) for _, cols in before[dataset]))
        for path, cols in files:
            added, missing = sorted(set(cols) - seen), sorted(always - set(cols))
            if added or missing:
                found.append(_schema_warning(batch, dataset, path, added, missing))
    return found


def _schema_warning(
    batch: Batch, dataset: str, path: str, added: list[str], missing: list[str]
) -> HealthWarning:
    parts = [f"new column(s) {', '.join(added)}"] * bool(added)
    parts += [f"missing column(s) {', '.join(missing)}"] * bool(missing)
    message = f"{path}: {'; '.join(parts)} against the previous {dataset} files"
    numbers = {"file": path, "added": added, "missing": missing}
    return HealthWarning("schema_change", message, batch.batch_id, dataset, numbers=numbers)
