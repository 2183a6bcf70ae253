"""A generated dirty dataset in three batches (>= 100k streams): every KPI table, every
quarantine row and count, and the curated lake are identical on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from musicstream.generate import generate, generate_increment
from spark_local import CLOCK

from .parity import assert_same

START = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three landing zones: a first export, then two increments (late and duplicate
    streams, dimension changes), all with about 5% bad rows of every kind."""
    root = tmp_path_factory.mktemp("generated")
    first = root / "b1"
    generate(
        first,
        streams=90_000,
        songs=6_000,
        users=8_000,
        days=10,
        start=START,
        seed=3,
        dirty=0.05,
        stream_files=2,
    )
    generate_increment(root / "b2", first, streams=12_000, seed=4, dirty=0.05)
    generate_increment(root / "b3", first, streams=12_000, seed=5, dirty=0.05)
    return [first, root / "b2", root / "b3"]


def test_three_dirty_batches_identical(
    tmp_path: Path, batches: list[Path], run_engine: Callable
) -> None:
    for engine in ("duckdb", "spark"):
        lake = tmp_path / engine
        for n, batch in enumerate(batches):
            shutil.copytree(batch, lake / "landing", dirs_exist_ok=True)
            run_engine(lake, engine, clock=CLOCK + timedelta(hours=n))
    shot = assert_same(tmp_path / "duckdb", tmp_path / "spark")
    read = sum(
        f["rows_read"] for b in shot["ledger"] for f in b["files"] if f["dataset"] == "streams"
    )
    assert read >= 100_000
    assert len(shot["ledger"]) == 3 and all(b["status"] == "archived" for b in shot["ledger"])
    quarantined = {r["reason"] for r in shot["batch_quality"] if r["reason"] != "kept"}
    assert {
        "malformed_row",
        "duplicate_event",
        "invalid_listen_time",
        "missing_columns",
    } <= quarantined
