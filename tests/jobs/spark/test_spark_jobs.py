"""The cluster entry points: spark-submit's and Glue's scripts, one stage at a time as the
Airflow DAG runs them, and ``musicstream run --engine spark``."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import Landing, land_first, song
from engines.spark.parity import differences, snapshot
from musicstream.jobs import glue
from musicstream.jobs import spark_submit as submit


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The entry points set up logging for a job; give pytest its handlers back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    out = capsys.readouterr().out.strip().splitlines()
    return dict(json.loads(out[-1]))


def test_stages_through_glue_and_spark_submit(
    tmp_path: Path, spark: Any, run_engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """plan → validate → compute → load → archive, alternating the two entry points, ends
    where one DuckDB run does."""
    for name in ("duck", "stages"):
        land_first(Landing(tmp_path / name))
    run_engine(tmp_path / "duck", "duckdb")
    lake = str(tmp_path / "stages")
    glue.main(["--lake", lake, "--stage", "plan"])
    batch_id = _last_json(capsys)["batch_id"]
    assert batch_id
    for n, stage in enumerate(["validate", "compute_kpis", "load", "archive"]):
        if n % 2:
            glue.main(["--lake", lake, "--stage", stage, "--batch_id", batch_id])
        else:
            submit.main(["--lake", lake, "--stage", stage, "--batch-id", batch_id])
        assert _last_json(capsys)["batch_id"] == batch_id
    kpis = {k: v for k, v in snapshot(tmp_path / "duck").items() if k.startswith("kpis/")}
    staged = {k: v for k, v in snapshot(tmp_path / "stages").items() if k.startswith("kpis/")}
    assert not differences(kpis, staged)
    assert (
        json.loads(next((tmp_path / "stages/_state/batches").glob("*.json")).read_text())["status"]
        == "archived"
    )


def test_stage_needs_a_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lake").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        submit.main(["--lake", str(tmp_path / "lake"), "--stage", "validate"])
    assert exit_info.value.code == 2
    assert "needs --batch-id" in capsys.readouterr().err


def test_cli_run_with_the_spark_engine(tmp_path: Path, spark: Any) -> None:
    from musicstream.cli import app

    lake = tmp_path / "lake"
    Landing(lake).songs([song(0, "t1", "pop"), song(1, "", "pop")])
    result = CliRunner().invoke(
        app, ["run", "--lake", str(lake), "--engine", "spark", "--log-format", "json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["datasets"]["songs"]["kept"] == 1
    assert (lake / "curated/songs/songs.parquet").exists()
