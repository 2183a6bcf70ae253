"""Validate: map each file's header to the contract, then let the engine check every row.

Header handling is engine-agnostic: column order does not matter, names are matched
case-insensitively after trimming, a file missing a required column is quarantined whole.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections.abc import Sequence

from musicstream.datasets import BY_NAME
from musicstream.engines import BatchContext, Engine, FileCounts, FileSpec
from musicstream.lake import Lake
from musicstream.state import FileEntry

log = logging.getLogger(__name__)


def read_header(lake: Lake, path: str) -> tuple[str, ...]:
    """Normalized header names of a CSV (plain or gzip, optional BOM); () if none."""
    # A small block: on S3 the default would fetch the first 50 MB just for this line.
    with lake.fs.open(lake.path(path), "rb", block_size=1 << 16) as raw:
        # BufferedReader: remote (fsspec) files have no readline(size).
        gz = path.lower().endswith(".gz")
        stream = gzip.GzipFile(fileobj=raw) if gz else io.BufferedReader(raw)
        try:
            first = stream.readline(1 << 20).decode("utf-8-sig")
        except (UnicodeDecodeError, OSError, EOFError):
            return ()
    cells = next(csv.reader(io.StringIO(first)), [])
    return normalize_header(cells)


def normalize_header(cells: Sequence[str]) -> tuple[str, ...]:
    """Trim and lower-case names; blank or repeated names get unique placeholders."""
    names: list[str] = []
    for i, cell in enumerate(cells):
        name = cell.strip().lower() or f"_column_{i}"
        while name in names:
            name = f"{name}_{i}"
        names.append(name)
    return tuple(names)


def file_specs(lake: Lake, dataset: str, entries: Sequence[FileEntry]) -> list[FileSpec]:
    """One spec per file; files lacking a required column carry 'missing_columns'."""
    required = BY_NAME[dataset].required
    specs = []
    for index, entry in enumerate(entries):
        header = read_header(lake, entry.path)
        missing = [c for c in required if c not in header]
        if missing:
            log.warning("%s lacks required column(s) %s", entry.path, ", ".join(missing))
        reason = "missing_columns" if missing else None
        specs.append(FileSpec(index, entry.path, lake.uri(entry.path), header, reason))
    return specs


def validate_dataset(
    engine: Engine, lake: Lake, dataset: str, entries: Sequence[FileEntry], ctx: BatchContext
) -> list[FileCounts]:
    """Validate one dataset's files of a batch and record the counts on the entries."""
    counts = engine.validate(dataset, file_specs(lake, dataset, entries), ctx)
    for entry, c in zip(entries, counts, strict=True):
        entry.rows_read, entry.rows_kept = c.rows_read, c.rows_kept
        entry.rows_quarantined = c.rows_quarantined
    return counts
