"""`musicstream validate PATH`: a dry run of validation that writes nothing to the lake.

The files are checked against the lake's current dimensions (when the lake exists), in a
scratch lake that is thrown away afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from musicstream import validate
from musicstream.datasets import BY_NAME, DATASETS
from musicstream.engines import BatchContext, create_engine
from musicstream.errors import UserError
from musicstream.lake import Lake, open_lake
from musicstream.settings import Settings
from musicstream.state import FileEntry

SAMPLE = 5


def input_files(path: Path, dataset: str | None) -> list[tuple[str, Path]]:
    """(dataset, file) pairs: a single CSV, a dataset folder, or a landing-style folder."""
    if not path.exists():
        raise UserError(f"no such file or folder: {path}")
    if dataset is not None and dataset not in BY_NAME:
        raise UserError(f"unknown dataset {dataset!r}; one of songs, users, streams")
    if path.is_file():
        name = dataset or path.parent.name
        if name not in BY_NAME:
            raise UserError(f"cannot tell the dataset of {path}: pass --dataset")
        return [(name, path)]
    if dataset is not None or path.name in BY_NAME:
        return [(dataset or path.name, p) for p in _csvs(path)]
    found = [(d.name, p) for d in DATASETS for p in _csvs(path / d.name)]
    if not found:
        raise UserError(f"no CSV files under {path} (expected songs/, users/, streams/ folders)")
    return found


def _csvs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.name.lower().endswith((".csv", ".csv.gz")))


def dry_run(settings: Settings, path: Path, dataset: str | None) -> dict[str, Any]:
    files = input_files(path, dataset)
    with tempfile.TemporaryDirectory(prefix="musicstream-validate-") as tmp:
        scratch = Lake(tmp)
        dims_from = _copy_dimensions(settings, tmp)
        entries = _link_inputs(tmp, files)
        ctx = BatchContext(
            "dry-run", datetime.now(UTC).replace(microsecond=0), settings.future_tolerance_s
        )
        engine = create_engine(settings, scratch)
        report: dict[str, Any] = {"dimensions_from": dims_from, "files": [], "samples": {}}
        try:
            for ds in DATASETS:
                mine = [e for e in entries if e.dataset == ds.name]
                if not mine:
                    continue
                counts = validate.validate_dataset(engine, scratch, ds.name, mine, ctx)
                for entry, c in zip(mine, counts, strict=True):
                    report["files"].append(
                        {
                            "dataset": ds.name,
                            "file": str(files[entries.index(entry)][1]),
                            "read": c.rows_read,
                            "kept": c.rows_kept,
                            "quarantined": c.rows_quarantined,
                            "reasons": c.reasons,
                        }
                    )
                if ds.is_dimension:
                    engine.curate_dimension(ds.name)
                report["samples"][ds.name] = _samples(tmp, ds.name)
        finally:
            engine.close()
    return report


def _copy_dimensions(settings: Settings, tmp: str) -> str | None:
    try:
        lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    except Exception:
        return None
    copied = False
    for dim in ("songs", "users"):
        rel = f"curated/{dim}/{dim}.parquet"
        if lake.exists(rel):
            os.makedirs(f"{tmp}/curated/{dim}", exist_ok=True)
            lake.fs.get_file(lake.path(rel), f"{tmp}/{rel}")
            copied = True
    return lake.url if copied else None


def _link_inputs(tmp: str, files: list[tuple[str, Path]]) -> list[FileEntry]:
    entries = []
    for i, (ds, src) in enumerate(files):
        rel = f"landing/{ds}/{i:05d}-{src.name}"
        os.makedirs(f"{tmp}/landing/{ds}", exist_ok=True)
        shutil.copyfile(src, f"{tmp}/{rel}")
        entries.append(FileEntry(ds, rel, "", src.stat().st_size))
    return entries


def _samples(tmp: str, dataset: str) -> list[dict[str, Any]]:
    q = f"{tmp}/quarantine/{dataset}/batch_id=dry-run/quarantine.parquet"
    if not os.path.exists(q):
        return []
    rel = duckdb.sql(f"select * exclude (source_file) from read_parquet('{q}') limit {SAMPLE}")
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
