"""The DuckDB engine's memory bound: the setting when there is one; else sized to the step's
input, between a floor and half the machine, and never lowered while the engine lives."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from musicstream.engines.duckdb.engine import (
    MAX_MEMORY_SHARE,
    MIN_MEMORY,
    DuckDBEngine,
    memory_for,
)
from musicstream.lake import open_lake
from musicstream.settings import load_settings

GB = 10**9


def _as_duckdb_shows(limit: str) -> str:
    con = duckdb.connect()
    con.execute(f"set memory_limit = '{limit}'")
    shown: str = con.execute("select current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
    return shown


def _limit(engine: DuckDBEngine) -> str:
    shown: str = engine.con.execute("select current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
    return shown


@pytest.mark.parametrize(
    ("input_bytes", "machine", "expected"),
    [
        (0, 24 * GB, MIN_MEMORY),  # a small batch: the floor
        (2 * GB, 24 * GB, 5 * GB),  # a large one: in proportion
        (20 * GB, 24 * GB, int(24 * GB * MAX_MEMORY_SHARE)),  # never over half the machine
        (20 * GB, 2 * GB, MIN_MEMORY),  # a small machine still gets the floor
    ],
)
def test_memory_for_a_step(input_bytes: int, machine: int, expected: int) -> None:
    assert memory_for(input_bytes, machine) == expected


def test_the_setting_is_kept_whatever_the_input(tmp_path: Path) -> None:
    engine = DuckDBEngine(
        load_settings(lake=str(tmp_path), memory_limit="700MB"), open_lake(str(tmp_path))
    )
    try:
        engine._bound(10 * GB)
        assert _limit(engine) == _as_duckdb_shows("700MB")
    finally:
        engine.close()


def test_without_a_setting_the_bound_grows_with_the_input_and_never_shrinks(
    tmp_path: Path,
) -> None:
    engine = DuckDBEngine(load_settings(lake=str(tmp_path)), open_lake(str(tmp_path)))
    try:
        assert _limit(engine) == _as_duckdb_shows(f"{MIN_MEMORY // 10**6}MB")
        engine._bound(int(0.8 * GB))  # 2 GB wanted
        assert _limit(engine) == _as_duckdb_shows("2000MB")
        engine._bound(0)
        assert _limit(engine) == _as_duckdb_shows("2000MB")
    finally:
        engine.close()
