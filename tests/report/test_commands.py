"""The CLI hook: `catalog ddl`, `query`, `report` on a bare Typer app via register()."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from musicstream.report.commands import register

from .test_queries import build_listener_tables


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """A stand-in for the main CLI."""

    register(app)
    return app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("MUSICSTREAM_LAKE", raising=False)
    return CliRunner()


def test_catalog_ddl_takes_the_lake_from_the_environment(
    app: typer.Typer, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MUSICSTREAM_LAKE", "s3://bucket/lake")
    result = runner.invoke(app, ["catalog", "ddl", "--database", "music"])
    assert result.exit_code == 0, result.output
    assert "create external table if not exists music.genre_daily" in result.stdout
    assert "location 's3://bucket/lake/kpis/genre_daily/'" in result.stdout


@pytest.mark.parametrize(
    "args", [["catalog", "ddl"], ["query", "genre_share"], ["report", "--out", "x.html"]]
)
def test_missing_lake_is_one_line_and_exit_2(
    app: typer.Typer, runner: CliRunner, args: list[str]
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: no lake given: pass --lake PATH_OR_URL or set MUSICSTREAM_LAKE"
    ]


def test_query_csv_to_stdout(app: typer.Typer, runner: CliRunner, kpi_lake: str) -> None:
    args = ["query", "top_artists", "--lake", kpi_lake, "--top-n", "2", "--format", "csv"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == (  # pyarrow's CSV writer quotes every text value and name
        '"rank","artist","listen_count","total_listening_ms","tracks"\n'
        '1,"Gamma",9,1230000,1\n'
        '2,"Alpha",7,1160000,3\n'
    )


def test_query_parquet_file_with_period(
    app: typer.Typer, runner: CliRunner, kpi_lake: str, tmp_path: Path
) -> None:
    out = tmp_path / "share.parquet"
    args = [
        "query",
        "genre_share",
        "--lake",
        kpi_lake,
        "--from",
        "2026-01-12",
        "--to",
        "2026-01-12",
    ]
    result = runner.invoke(app, [*args, "--format", "parquet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column("genre").to_pylist() == ["pop", "jazz", "folk"]
    assert table.column("listen_count").to_pylist() == [5, 2, 1]


def test_query_follows_one_user(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    lake = str(build_listener_tables(tmp_path))
    args = ["query", "user_activity_trend", "--lake", lake, "--user-id", "u2", "--to", "2026-01-06"]
    result = runner.invoke(app, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        '"u2",2026-01-05,2,1,300000,"pop",2,300000',
        '"u2",2026-01-06,0,0,0,,2,300000',
    ]


def test_query_table_output(app: typer.Typer, runner: CliRunner, kpi_lake: str) -> None:
    result = runner.invoke(app, ["query", "listener_engagement", "--lake", kpi_lake])
    assert result.exit_code == 0, result.output
    assert "2026-01-12" in result.stdout
    assert "1,200,000" in result.stdout  # thousands separators for people


def test_query_without_name_lists_the_library(app: typer.Typer, runner: CliRunner) -> None:
    result = runner.invoke(app, ["query"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert "genre_trend_weekly" in names and "quality_by_batch" in names


def test_query_athena_sql_lists_batch_ids(
    app: typer.Typer, runner: CliRunner, kpi_lake: str
) -> None:
    args = ["query", "quality_by_batch", "--lake", kpi_lake, "--from", "2026-01-06", "--athena"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "IN ('20260106T090000Z-bbbb2222', '20260112T090000Z-cccc3333')" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "nope"], "unknown query 'nope'; choose one of: active_listeners_monthly"),
        (["query", "genre_share", "--from", "2026-13-01"], "2026-13-01"),
        (["query", "genre_share", "--from", "2026-01-12", "--to", "2026-01-05"], "after it ends"),
        (["query", "genre_share", "--format", "xls"], "xls"),
        (["query", "genre_share", "--format", "parquet"], "--format parquet needs --out"),
        (["query", "user_activity_trend", "--user-id", ""], "the user id is empty"),
        (["report", "--from", "2030-01-01"], "no KPI data"),
    ],
)
def test_user_mistakes_exit_2_without_traceback(
    app: typer.Typer, runner: CliRunner, kpi_lake: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [*args, "--lake", kpi_lake])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_empty_lake_is_exit_2(app: typer.Typer, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "country_plays", "--lake", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no country_daily data in the lake")


def test_report_command_prints_the_path(
    app: typer.Typer, runner: CliRunner, kpi_lake: str, tmp_path: Path
) -> None:
    out = tmp_path / "sub" / "r.html"
    result = runner.invoke(app, ["report", "--lake", kpi_lake, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    assert out.stat().st_size > 1_000_000  # plotly.js is inside


def test_importing_the_commands_is_light() -> None:
    code = (
        "import sys, musicstream.report.commands\n"
        "heavy = ('plotly', 'matplotlib', 'sqlglot', 'duckdb', 'pyarrow')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_missing_report_extra_is_a_hint(
    app: typer.Typer,
    runner: CliRunner,
    kpi_lake: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for module in ("build", "charts", "page"):
        monkeypatch.delitem(sys.modules, f"musicstream.report.{module}", raising=False)
    monkeypatch.setitem(sys.modules, "plotly", None)  # as if not installed
    result = runner.invoke(app, ["report", "--lake", kpi_lake, "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert result.stderr == "error: plotly is missing: install the 'report' extra\n"
