"""Analyst queries and the HTML report over a lake on S3 (moto), through the CLI: the same
answers as over the same batch on a local lake."""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aws_local import land
from conftest import cli
from musicstream import pipeline
from musicstream.report import queries
from musicstream.settings import Settings

pytestmark = pytest.mark.aws

Make = Callable[..., Settings]
CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _cli(*args: str, settings: Settings | None = None) -> subprocess.CompletedProcess[str]:
    env = {}
    if settings is not None:  # configured through the environment, as a deployment would be
        env["MUSICSTREAM_AWS_ENDPOINT_URL"] = settings.aws_endpoint_url or ""
        env["MUSICSTREAM_AWS_REGION"] = settings.aws_region or ""
    return cli(*args, env=env)


def _query(name: str, settings: Settings) -> list[dict[str, str]]:
    done = _cli("query", name, "--lake", settings.lake, "--format", "csv", settings=settings)
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def _rows(name: str, lake: str) -> list[dict[str, object]]:
    """One library query's rows, read as the `query` command reads them (in process: a CLI
    process per query and lake took ~3 s each)."""
    import duckdb

    from musicstream.report import lakeio

    with duckdb.connect() as con, lakeio.readable(lake, queries.tables_read(name)) as root:
        return queries.run_query(con, root, name).to_pylist()


def test_queries_and_report_read_an_s3_lake(
    aws_settings: Make, local_settings: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = aws_settings(store="sqlite", store_path=str(tmp_path / "kpis.sqlite"))
    local = local_settings()
    for settings in (aws, local):
        land(settings, 0)
        pipeline.run(settings, clock=CLOCK)  # the same batch id on both lakes
    monkeypatch.setenv("MUSICSTREAM_AWS_ENDPOINT_URL", aws.aws_endpoint_url or "")
    monkeypatch.setenv("MUSICSTREAM_AWS_REGION", aws.aws_region or "")
    for name in queries.query_names():
        want = _rows(name, local.lake)
        assert want, name  # every query has rows on this batch: the comparison means something
        assert _rows(name, aws.lake) == want, name
    # and through the CLI, configured by the environment
    assert _query("top_listeners", aws) == _query("top_listeners", local) != []

    out = tmp_path / "report.html"
    done = _cli("report", "--lake", aws.lake, "--out", str(out), settings=aws)
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert aws.lake in page and "musicstream-" not in page  # named as given, not the scratch
    for genre in ("rock", "jazz"):
        assert genre in page


def test_an_empty_s3_lake_is_named_in_the_error(aws_settings: Make) -> None:
    aws = aws_settings()
    done = _cli("query", "genre_share", "--lake", aws.lake, settings=aws)
    assert done.returncode == 2
    assert f"no genre_daily data in the lake {aws.lake}" in done.stderr
