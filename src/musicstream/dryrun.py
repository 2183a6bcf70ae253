"""`musicstream validate PATH`: a dry run of validation that writes nothing to the lake.

The files are checked against the lake's current dimensions (when the lake exists), in a
scratch lake that is thrown away afterwards.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from musicstream import ingest, layout, validate
from musicstream.datasets import BY_NAME, DATASETS
from musicstream.engines import BatchContext, FileCounts, create_engine
from musicstream.errors import UserError
from musicstream.lake import LocalLake, open_lake
from musicstream.settings import Settings
from musicstream.sqltext import literal
from musicstream.state import FileEntry

SAMPLE = 5
BATCH_ID = "dry-run"  # of the scratch lake's one batch


def input_files(path: Path, dataset: str | None) -> list[tuple[str, Path]]:
    """(dataset, file) pairs: a single CSV, a dataset folder, or a landing-style folder.

    A folder is searched below, sub-folders too (even one named like ``x.csv``); a path that
    is not a readable file is named in one line rather than failing the dry run half way.
    """
    if not path.exists() and not path.is_symlink():
        raise UserError(f"no such file or folder: {path}")
    if dataset is not None and dataset not in BY_NAME:
        raise UserError(f"unknown dataset {dataset!r}; one of songs, users, streams")
    if not path.is_dir():
        files = _csvs(path)
        name = dataset or path.parent.name
        if name not in BY_NAME:
            raise UserError(f"cannot tell the dataset of {path}: pass --dataset")
        return [(name, p) for p in files]
    named = dataset is not None or path.name in BY_NAME
    if named:
        found = [(dataset or path.name, p) for p in _csvs(path)]
    else:
        folders = [d.name for d in DATASETS if (path / d.name).is_dir()]
        found = [(name, p) for name in folders for p in _csvs(path / name)]
    if found:
        return found
    if not named and _csvs(path):
        raise UserError(f"cannot tell the dataset of the files in {path}: pass --dataset")
    hint = "" if named else " (expected songs/, users/, streams/ folders)"
    raise UserError(f"no CSV files under {path}{hint}")


def _csvs(path: Path) -> list[Path]:
    """The input files at ``path``: itself, or every file below a folder that a run would
    take from landing (temporary names left out; a ``.zip`` is kept, to be reported).

    A file named directly must be a regular file this process can read; files found in a
    folder are reported as a run would report them (``unreadable_file`` and so on).
    """
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*") if not p.is_dir() and not _ignored(p.relative_to(path))
        )
    if not (path.exists() or path.is_symlink()):
        return []
    if not path.exists():
        raise UserError(f"{path} is a dangling symbolic link")
    if not path.is_file():
        raise UserError(f"{path} is not a regular file (a fifo, socket or device?)")
    if not os.access(path, os.R_OK):
        raise UserError(f"cannot read {path}: permission denied")
    return [path]


def _ignored(rel: Path) -> bool:
    return ingest.ignored(f"{layout.landing('x')}/{rel.as_posix()}")


def dry_run(settings: Settings, path: Path, dataset: str | None) -> dict[str, Any]:
    """Validate ``path``'s files as a run would, against the lake, writing nothing to it."""
    files = input_files(path, dataset)
    with tempfile.TemporaryDirectory(prefix="musicstream-validate-") as tmp:
        scratch = LocalLake(tmp)
        dims_from = _mirror_lake(settings, tmp)
        entries = _plan_inputs(scratch, files)
        ctx = BatchContext(
            BATCH_ID, datetime.now(UTC).replace(microsecond=0), settings.future_tolerance_s
        )
        engine = create_engine(settings, scratch)
        report: dict[str, Any] = {"dimensions_from": dims_from, "files": [], "samples": {}}
        try:
            with scratch.staging() as folder:
                for ds in DATASETS:
                    mine = sorted(
                        (e for e in entries if e.dataset == ds.name),
                        key=lambda e: (e.landed, e.path),
                    )
                    if not mine:
                        continue
                    counts = validate.validate_dataset(
                        engine, scratch, ds.name, mine, ctx, folder, settings.input_encoding
                    )
                    report["files"] += [
                        _file_row(entry, files[entries.index(entry)][1], c)
                        for entry, c in zip(mine, counts, strict=True)
                    ]
                    if ds.is_dimension:
                        engine.curate_dimension(ds.name, ctx.batch_id)
                    report["samples"][ds.name] = _samples(tmp, ds.name)
        finally:
            engine.close()
    return report


def _file_row(entry: FileEntry, source: Path, counts: FileCounts) -> dict[str, Any]:
    row = {
        "dataset": entry.dataset,
        "file": str(source),
        "read": counts.rows_read,
        "kept": counts.rows_kept,
        "quarantined": counts.rows_quarantined,
        "reasons": counts.reasons,
        "file_reason": f"{entry.reason}: {entry.detail}" if entry.detail else entry.reason or "",
    }
    return row


def _mirror_lake(settings: Settings, tmp: str) -> str | None:
    """What a run validates against: the curated dimensions (copied, since validation
    upserts them) and, on a local lake, its curated streams (linked, read only: they find
    the events a run would quarantine as ``duplicate_event``)."""
    try:
        lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
        if not lake.exists(layout.CURATED):
            return None
    except Exception:
        return None
    for dim in ("songs", "users"):
        rel = layout.dimension(dim)
        if lake.exists(rel):
            os.makedirs(os.path.dirname(f"{tmp}/{rel}"), exist_ok=True)
            lake.fs.get_file(lake.path(rel), f"{tmp}/{rel}")
    if lake.is_local and lake.exists(layout.CURATED_STREAMS):
        os.symlink(lake.path(layout.CURATED_STREAMS), f"{tmp}/{layout.CURATED_STREAMS}")
    return lake.url


def _plan_inputs(scratch: LocalLake, files: list[tuple[str, Path]]) -> list[FileEntry]:
    """Plan the inputs in the scratch lake as a run plans landing files (same admission)."""
    entries = []
    for i, (ds, src) in enumerate(files):
        rel = f"{layout.landing(ds)}/{i:05d}-{src.name}"
        os.makedirs(scratch.path(layout.landing(ds)), exist_ok=True)
        # a link: planning copies what it points to, and sees its mtime (the landing order)
        os.symlink(src.absolute(), scratch.path(rel))
        listed = [f for f in scratch.listing(layout.landing(ds)) if f.path == rel]
        entry = ingest.plan_file(scratch, listed[0])
        if entry is None:
            raise UserError(f"{src} changed while it was read; try again")
        entries.append(entry)
    return entries


def _samples(tmp: str, dataset: str) -> list[dict[str, Any]]:
    q = f"{tmp}/{layout.quarantine_file(dataset, BATCH_ID)}"
    if not os.path.exists(q):
        return []
    rel = duckdb.sql(
        f"select * exclude (source_file) from read_parquet({literal(q)}) limit {SAMPLE}"
    )
    assert rel is not None  # a query, not a statement
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def render(report: dict[str, Any]) -> None:
    from musicstream.console import console, rows_table

    origin = report["dimensions_from"]
    console.print(
        f"Checked against dimensions of {origin}"
        if origin
        else "No lake dimensions found: streams are checked against the given files only."
    )
    rows = [
        {**f, "reasons": ", ".join(f"{r} {n:,}" for r, n in sorted(f["reasons"].items()))}
        for f in report["files"]
    ]
    console.print(rows_table("Dry run (nothing written)", rows))
    for ds, samples in report["samples"].items():
        if samples:
            console.print(rows_table(f"First quarantined {ds} rows", samples))
