"""User mistakes, driven through the real CLI: one line on stderr, exit code 2, no traceback,
and no side effect (a lake or store that did not exist still does not)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Landing, cli, land_first

FROM_AFTER_TO = ["--from", "2026-02-01", "--to", "2026-01-01"]


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """The single stderr line of a refused command, checked to name ``words``."""
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


def tree(path: Path) -> list[Path]:
    return sorted(path.rglob("*"))


@pytest.fixture
def loaded(lake: Path, landing: Landing, run: Callable[..., dict[str, Any]]) -> Path:
    """A lake after one batch: curated data, KPIs and a store."""
    land_first(landing)
    run(lake)
    return lake


def test_kpis_on_a_missing_lake_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    proc = cli("kpis", "genre_daily", "--date", "2026-01-01", "--lake", str(missing))
    one_line_error(proc, "lake not found", str(missing))
    assert not missing.exists()


def test_kpis_before_the_first_run_creates_no_store(lake: Path) -> None:
    proc = cli("kpis", "genre_daily", "--date", "2026-01-01", "--lake", str(lake))
    one_line_error(proc, "no KPIs loaded yet", "musicstream run")
    assert tree(lake) == []


def test_store_init_on_a_missing_lake_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    one_line_error(cli("store", "init", "--lake", str(missing)), "lake not found")
    assert not missing.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["kpis", "genre_daily", "--genre", "pop", *FROM_AFTER_TO],
        ["backfill", *FROM_AFTER_TO],
    ],
    ids=["kpis", "backfill"],
)
def test_from_later_than_to(args: list[str], lake: Path) -> None:
    one_line_error(cli(*args, "--lake", str(lake)), "--from 2026-02-01 is after --to 2026-01-01")
    assert tree(lake) == []


KPIS_REFUSED = {  # the new options, used where no key serves them (SPEC §5 patterns 8-12)
    "user_daily without --user": (
        ["user_daily", "--from", "2026-01-01", "--to", "2026-01-31"],
        "user_daily is read per user: add --user ID",
    ),
    "active_listeners without --period": (
        ["active_listeners", "--from", "2026-01-01", "--to", "2026-01-31"],
        "add --period (day/week/month)",
    ),
    "an unknown --period": (
        ["active_listeners", "--period", "year", "--date", "2026-01-01"],
        "unknown period 'year'; one of day, week, month",
    ),
    "hourly_activity over a range": (
        ["hourly_activity", "--from", "2026-01-01", "--to", "2026-01-02"],
        "a date range is served for",
    ),
    "--user on a table without users": (
        ["genre_daily", "--date", "2026-01-01", "--user", "u1"],
        "genre_daily has no user_id to select: drop --user",
    ),
    "--period on a table without periods": (
        ["user_daily", "--date", "2026-01-01", "--user", "u1", "--period", "day"],
        "drop --period",
    ),
    "songs without --track": (["songs"], "songs is read by key: add --track ID"),
    "songs with a date": (["songs", "--track", "t1", "--date", "2026-01-01"], "drop --date"),
    "users by --track": (["users", "--track", "t1"], "users is read by --user ID alone"),
    "an unknown table": (["nope", "--date", "2026-01-01"], "active_listeners, songs, users"),
}


@pytest.mark.parametrize(("args", "message"), KPIS_REFUSED.values(), ids=KPIS_REFUSED)
def test_kpis_refuses_a_query_no_key_serves(args: list[str], message: str, lake: Path) -> None:
    one_line_error(cli("kpis", *args, "--lake", str(lake)), message)
    assert tree(lake) == []


def test_kpis_unknown_format_names_the_valid_ones(lake: Path) -> None:
    proc = cli(
        "kpis", "genre_daily", "--date", "2026-01-01", "--format", "xml", "--lake", str(lake)
    )
    one_line_error(proc, "--format", "'xml'", "table", "json", "csv")
    assert tree(lake) == []


def test_report_png_must_be_a_folder(loaded: Path, tmp_path: Path) -> None:
    """Six charts cannot go into one file: refused before the HTML is written."""
    png = tmp_path / "chart.png"
    png.write_bytes(b"mine")
    out = tmp_path / "report.html"
    proc = cli("report", "--lake", str(loaded), "--png", str(png), "--out", str(out))
    one_line_error(proc, "--png", str(png), "folder")
    assert png.read_bytes() == b"mine" and not out.exists()


def test_report_out_must_be_a_file(loaded: Path, tmp_path: Path) -> None:
    proc = cli("report", "--lake", str(loaded), "--out", str(tmp_path))
    one_line_error(proc, "--out", "is a folder")


@pytest.mark.parametrize(
    "args",
    [
        ["run"],
        ["status"],
        ["kpis", "genre_daily", "--date", "2026-01-01"],
        ["repair"],
    ],
    ids=lambda a: a[0],
)
def test_a_lake_that_is_a_file(args: list[str], tmp_path: Path) -> None:
    path = tmp_path / "lake.csv"
    path.write_text("not a lake")
    one_line_error(cli(*args, "--lake", str(path)), f"lake {path} is a file, not a lake folder")
    assert tree(tmp_path) == [path]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the permissions say")
def test_run_on_a_read_only_lake(loaded: Path, landing: Landing) -> None:
    landing.streams([["u1", "t1", "2026-01-04 10:00:00", ""]], name="c.csv")
    before = tree(loaded)
    modes = {p: p.stat().st_mode for p in [loaded, *before] if p.is_dir()}
    for folder in modes:
        folder.chmod(0o555)
    try:
        proc = cli("run", "--lake", str(loaded))
    finally:
        for folder, mode in modes.items():
            folder.chmod(mode)
    one_line_error(proc, f"lake {loaded} is not writable")
    assert tree(loaded) == before


def test_validate_reads_a_folder_named_like_a_csv(tmp_path: Path) -> None:
    inner = tmp_path / "in" / "streams" / "x.csv"
    inner.mkdir(parents=True)
    (inner / "part.csv").write_text("user_id,track_id,listen_time\nu1,t1,2026-01-04 10:00:00\n")
    proc = cli("validate", str(tmp_path / "in"), "--log-format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"read": 1' in proc.stdout and "part.csv" in proc.stdout


def test_validate_an_empty_folder_named_like_a_csv(tmp_path: Path) -> None:
    (tmp_path / "x.csv").mkdir()
    proc = cli("validate", "x.csv", "--dataset", "streams", cwd=tmp_path)
    one_line_error(proc, "no CSV files under x.csv")


def test_validate_reports_a_dangling_link_in_a_folder_as_run_would(tmp_path: Path) -> None:
    """Named directly, a bad path is a mistake; found in a folder, it is a landing file."""
    folder = tmp_path / "streams"
    folder.mkdir()
    (folder / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    proc = cli("validate", str(folder), "--log-format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (found,) = json.loads(proc.stdout)["files"]
    assert found["file_reason"].startswith("unreadable_file: ")
    one_line_error(cli("validate", str(folder / "gone.csv"), cwd=tmp_path), "gone.csv", "dangling")


def test_validate_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    proc = cli("validate", str(fifo), "--dataset", "streams", cwd=tmp_path)
    one_line_error(proc, str(fifo), "not a regular file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads whatever the permissions say")
def test_validate_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "streams" / "secret.csv"
    path.parent.mkdir()
    path.write_text("user_id,track_id,listen_time\n")
    path.chmod(0)
    proc = cli("validate", str(path), cwd=tmp_path)
    one_line_error(proc, str(path), "permission denied")


@pytest.mark.parametrize(
    ("command", "option"), [("generate", "--out"), ("demo", "--lake")], ids=["generate", "demo"]
)
def test_an_output_folder_under_a_file(command: str, option: str, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    proc = cli(command, option, str(blocker / "sub"), cwd=tmp_path)
    one_line_error(proc, option, f"{blocker} is a file")
    assert tree(tmp_path) == [blocker] and blocker.read_text() == "keep me"


def test_a_missing_argument_is_one_line(tmp_path: Path) -> None:
    one_line_error(cli("kpis", cwd=tmp_path), "Missing argument", "--help")
