"""The CLI as a user meets it: commands, settings precedence, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Landing, cli, land_first
from musicstream.errors import UserError
from musicstream.settings import load_settings, memory_bytes


@pytest.fixture
def loaded(lake: Path, landing: Landing) -> Path:
    land_first(landing)
    proc = cli("run", "--lake", str(lake), "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["datasets"]["streams"]["reasons"] == {"unknown_user": 1}
    return lake


def test_kpis_access_patterns(loaded: Path) -> None:
    def rows(*args: str) -> list[dict]:
        proc = cli("kpis", *args, "--lake", str(loaded), "--format", "json")
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line) for line in proc.stdout.splitlines()]

    assert [r["genre"] for r in rows("genre_daily", "--date", "2026-01-02")] == ["pop"]
    assert [
        r["report_date"]
        for r in rows(
            "genre_daily", "--genre", "rock", "--from", "2026-01-01", "--to", "2026-01-31"
        )
    ] == ["2026-01-03"]
    assert [r["track_id"] for r in rows("top_songs_daily", "--date", "2026-01-03")] == ["t2"]
    assert rows("top_songs_daily", "--date", "2026-01-03", "--genre", "pop") == []
    assert [r["rank"] for r in rows("top_genres_daily", "--date", "2026-01-02")] == [1]
    assert [
        r["listen_count"]
        for r in rows("track_daily", "--track", "t1", "--from", "2026-01-01", "--to", "2026-01-05")
    ] == [1]
    assert [r["country"] for r in rows("country_daily", "--date", "2026-01-03")] == ["FR"]
    assert [r["artist"] for r in rows("top_artists_daily", "--date", "2026-01-02")] == ["A", "B"]


def test_status_backfill_and_text_output(loaded: Path) -> None:
    proc = cli("status", "--lake", str(loaded), "--log-format", "json")
    report = json.loads(proc.stdout)
    assert [b["status"] for b in report["batches"]] == ["archived"]
    assert report["quality"]["streams"] == {"kept": 2, "unknown_user": 1}
    proc = cli("backfill", "--from", "2026-01-01", "--to", "2026-01-02", "--lake", str(loaded))
    assert proc.returncode == 0 and "Recomputed 1 date" in proc.stdout
    proc = cli("kpis", "genre_daily", "--date", "2026-01-02", "--lake", str(loaded))
    assert proc.returncode == 0 and "pop" in proc.stdout


def test_validate_dry_run_writes_nothing(loaded: Path, tmp_path: Path) -> None:
    folder = tmp_path / "incoming" / "streams"
    folder.mkdir(parents=True)
    (folder / "new.csv").write_text(
        "user_id,track_id,listen_time\nu1,t1,2026-01-04 10:00:00\n"
        "u1,zzz,2026-01-04 10:00:00\nu1,t1,later\n"
    )
    before = sorted(p for p in loaded.rglob("*"))
    proc = cli("validate", str(folder), "--lake", str(loaded), "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    (f,) = report["files"]
    assert (f["read"], f["kept"], f["quarantined"]) == (3, 1, 2)
    assert f["reasons"] == {"unknown_track": 1, "invalid_listen_time": 1}
    assert sorted(p for p in loaded.rglob("*")) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--lake", "/nonexistent/lake"], "lake not found"),
        (["run", "--engine", "nope", "--lake", "."], "unknown engine"),
        (["run", "--store", "nope", "--lake", "."], "unknown store"),
        (["kpis", "genre_daily", "--date", "yesterday", "--lake", "."], "--date must be a date"),
        (["kpis", "nope", "--date", "2026-01-01", "--lake", "."], "unknown KPI table"),
        (["kpis", "genre_daily", "--from", "2026-01-01", "--lake", "."], "date range is served"),
        (["kpis", "track_daily", "--date", "2026-01-01", "--lake", "."], "add --track"),
        (["validate", "/nonexistent.csv"], "no such file"),
        (["run", "--config", "/nonexistent.toml"], "config file not found"),
    ],
)
def test_user_mistakes_are_one_line_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_option_is_a_usage_error(tmp_path: Path) -> None:
    proc = cli("run", "--no-such-flag", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_unreadable_config_and_bad_values(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("lake = [unclosed")
    with pytest.raises(UserError, match="cannot read config"):
        load_settings(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("threads = 0\n")
    with pytest.raises(UserError, match="invalid setting threads"):
        load_settings(wrong)


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("lots", "is not a memory size"),
        ("4096", "is not a memory size"),  # DuckDB wants a unit; bytes are never meant
        ("-1GB", "is not a memory size"),
        ("4kb", "too little memory"),
    ],
)
def test_memory_limit_must_be_a_size_to_run_in(limit: str, message: str) -> None:
    with pytest.raises(UserError, match=f"invalid setting memory_limit: .*{message}"):
        load_settings(memory_limit=limit)


@pytest.mark.parametrize(
    ("limit", "limit_bytes"),
    [("1536MB", 1536 * 10**6), ("1.5GB", 15 * 10**8), ("4GiB", 4 << 30), (" 4 g ", 4 * 10**9)],
)
def test_memory_limit_reads_sizes_in_duckdb_units(limit: str, limit_bytes: int) -> None:
    assert load_settings(memory_limit=limit).memory_limit == limit
    assert memory_bytes(limit) == limit_bytes


def test_settings_precedence_flag_env_file_default(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "musicstream.toml"
    config.write_text(
        '[musicstream]\nlake = "from-file"\nengine = "duckdb"\n'
        'store = "sqlite"\n[musicstream.top_n]\nsongs = 7\n'
    )
    monkeypatch.setenv("MUSICSTREAM_ENGINE", "spark")
    monkeypatch.setenv("MUSICSTREAM_STORE", "dynamodb")
    monkeypatch.setenv("MUSICSTREAM_TOP_N__GENRES", "9")
    s = load_settings(config, store="sqlite")
    assert (s.lake, s.engine, s.store) == ("from-file", "spark", "sqlite")
    assert (s.top_n.songs, s.top_n.genres, s.top_n.artists) == (7, 9, 10)
    assert load_settings().lake == "lake"  # nothing given: the default


def test_config_file_from_the_environment_with_top_level_keys(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "env.toml"
    config.write_text('lake = "from-env-file"\nstore = "dynamodb"\n')
    monkeypatch.setenv("MUSICSTREAM_CONFIG", str(config))
    s = load_settings()
    assert (s.lake, s.store) == ("from-env-file", "dynamodb")
    assert load_settings(lake="flag").lake == "flag"
    monkeypatch.setenv("MUSICSTREAM_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(UserError, match=r"config file not found: .*gone\.toml"):
        load_settings()
    with pytest.raises(UserError, match="cannot read config file"):
        load_settings(tmp_path)  # a folder is no config file


def test_demo_runs_two_batches_and_shows_kpis(tmp_path: Path) -> None:
    proc = cli("demo", "--lake", str(tmp_path / "demo"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("Batch ") >= 2
    for table in ("top_genres_daily", "top_songs_daily", "country_daily"):
        assert table in proc.stdout
    assert "duplicate_event" in proc.stdout and "malformed_row" in proc.stdout
    again = cli("demo", "--lake", str(tmp_path / "demo"), cwd=tmp_path)  # a demo lake is reusable
    assert again.returncode == 0
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "data.txt").write_text("keep me")
    refused = cli("demo", "--lake", str(tmp_path / "precious"), cwd=tmp_path)
    assert refused.returncode == 2 and (tmp_path / "precious" / "data.txt").exists()


def test_text_logs_go_to_stderr(lake: Path, landing: Landing) -> None:
    """stdout carries results only: a warning logged in text format stays on stderr."""
    land_first(landing)
    # nothing listens on port 9 (discard): the notification fails and is logged as a warning
    proc = cli("run", "--lake", str(lake), env={"MUSICSTREAM_WEBHOOK_URL": "http://127.0.0.1:9/"})
    assert proc.returncode == 0, proc.stderr
    assert "webhook notification failed" in proc.stderr
    assert "webhook" not in proc.stdout and proc.stdout.startswith("Batch ")
