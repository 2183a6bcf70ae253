"""The Spark engine's tests: each marked ``spark`` (skipped without pyspark); the session,
``run_engine`` and ``CLOCK`` are tests/spark_local.py's; twin lakes for the parity tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from spark_local import mark_spark


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups mark_spark sets
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_spark(items, Path(__file__).parent)


@pytest.fixture
def twin_lakes(tmp_path: Path) -> Callable[[Path], tuple[Path, Path]]:
    """Copy a prepared lake (landing files included) into a DuckDB lake and a Spark lake."""

    def split(source: Path) -> tuple[Path, Path]:
        duck, spark = tmp_path / "duckdb", tmp_path / "spark"
        for target in (duck, spark):
            shutil.copytree(source, target, dirs_exist_ok=True)
        return duck, spark

    return split
