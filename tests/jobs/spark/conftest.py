"""The cluster entry points' tests: each marked ``spark`` (skipped without pyspark); the
session and ``run_engine`` are tests/spark_local.py's."""

from __future__ import annotations

from pathlib import Path

import pytest

from spark_local import mark_spark


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups mark_spark sets
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_spark(items, Path(__file__).parent)
