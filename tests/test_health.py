"""Data-health checks (health.py) on histories made by running the pipeline: freshness,
volume per weekday, quarantine rate per reason, schema changes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import STREAM_HEADER, Landing, song
from musicstream import health, pipeline
from musicstream.pipeline import lake_for
from musicstream.settings import Settings
from musicstream.state import ARCHIVED, Batch, FileEntry, Ledger

SettingsFor = Callable[..., Settings]
MARCH = datetime(2026, 3, 1, tzinfo=UTC)  # after every listen time of these tests


def land_dimensions(landing: Landing) -> None:
    landing.songs([song(0, "t1", "pop"), song(1, "t2", "rock")])
    landing.users([["u1", "a", 30, "US", ""], ["u2", "b", 40, "FR", ""]])


def plays(day: str, n: int, user: str = "u1") -> list[list[Any]]:
    """``n`` distinct streams on ``day``, a second apart."""
    return [[user, "t1", f"{day} 10:{i // 60:02d}:{i % 60:02d}", ""] for i in range(n)]


def run_batch(settings: Settings, minute: int | None = None) -> Batch:
    """One pipeline run (its clock ``minute`` minutes into 2026-03-01, else now); the batch
    it made, as the ledger holds it."""
    clock = None if minute is None else MARCH + timedelta(minutes=minute)
    [batch_id] = pipeline.run(settings, clock=clock)["batch_ids"]
    return Ledger(lake_for(settings)).get(batch_id)


def checks(found: list[health.HealthWarning], check: str) -> list[health.HealthWarning]:
    return [w for w in found if w.check == check]


# -- freshness ---------------------------------------------------------------------------


def test_freshness_fires_after_the_limit_and_not_before(
    lake: Path, landing: Landing, settings_for: SettingsFor
) -> None:
    land_dimensions(landing)
    landing.streams(plays("2026-01-05", 3))
    settings = settings_for(lake, freshness_alert_after_s=6 * 3600)
    batch = run_batch(settings)
    now = datetime.now(UTC)
    fresh = health.check_freshness(settings, lake_for(settings), now=now + timedelta(hours=5))
    assert fresh == []
    [stale] = health.check_freshness(settings, lake_for(settings), now=now + timedelta(hours=7))
    assert stale.batch_id == batch.batch_id
    assert 7 * 3600 - 60 < stale.numbers["age_s"] <= 7 * 3600
    assert "no new batch for 7.0 h" in stale.message
    off = settings_for(lake, freshness_alert_after_s=0)
    assert health.check_freshness(off, lake_for(off), now=now + timedelta(days=9)) == []


def test_freshness_takes_the_newer_of_ledger_and_store(
    lake: Path, landing: Landing, settings_for: SettingsFor, tmp_path: Path
) -> None:
    """A manifest of before ``loaded_at`` (clock + step time only), ten days old: the store's
    load of that batch just now keeps the lake fresh; without the store the ledger alone
    tells, and the lake is stale by ten days."""
    land_dimensions(landing)
    landing.streams(plays("2026-01-05", 3))
    settings = settings_for(lake)
    batch = run_batch(settings)
    old = datetime.now(UTC) - timedelta(days=10)
    if hasattr(batch, "loaded_at"):
        batch.loaded_at = None
    Ledger(lake_for(settings)).save(dataclasses.replace(batch, clock=old.isoformat()))
    assert health.check_freshness(settings, lake_for(settings)) == []
    no_store = settings_for(lake, store_path=str(tmp_path / "absent.sqlite"))
    [stale] = health.check_freshness(no_store, lake_for(no_store))
    assert 10 * 86400 - 60 < stale.numbers["age_s"] <= 10 * 86400  # less the steps' time


def test_freshness_fires_when_nothing_was_ever_loaded(
    lake: Path, settings_for: SettingsFor
) -> None:
    settings = settings_for(lake)
    [never] = health.check_batches(settings, lake_for(settings), [])
    assert never.check == "freshness" and "no batch has been loaded" in never.message


# -- volume ------------------------------------------------------------------------------


def test_volume_judges_each_date_against_its_weekday(
    lake: Path, landing: Landing, settings_for: SettingsFor
) -> None:
    """Mondays of 10 streams, then one of 3 and one of 40; a busy Tuesday among them must
    not count for Mondays. The first Mondays lack history; 2026-01-26 is normal."""
    land_dimensions(landing)
    mondays = {"2026-01-05": 10, "2026-01-12": 10, "2026-01-19": 10, "2026-01-26": 10}
    mondays |= {"2026-02-02": 3, "2026-02-09": 40}
    rows = [p for day, n in mondays.items() for p in plays(day, n)]
    landing.streams([*rows, *plays("2026-01-27", 300)])
    settings = settings_for(lake, freshness_alert_after_s=None)
    batch = run_batch(settings)
    found = health.check_batches(settings, lake_for(settings), [batch])
    assert [(w.date, w.numbers["streams"], w.numbers["median"]) for w in found] == [
        ("2026-02-02", 3, 10),
        ("2026-02-09", 40, 10),
    ]
    assert found[0].numbers["history"] == ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]
    assert "unusually low" in found[0].message and "unusually high" in found[1].message
    # The day of the batch's clock is still filling: not judged until a later batch.
    filling = dataclasses.replace(batch, clock="2026-02-09T12:00:00+00:00")
    assert [w.date for w in health.Volumes(lake_for(settings)).check(settings, filling)] == [
        "2026-02-02"
    ]
    wide = settings_for(lake, volume_low_ratio=0.2, volume_high_ratio=5.0)
    assert health.Volumes(lake_for(wide)).check(wide, batch) == []


# -- quarantine rate ---------------------------------------------------------------------


def test_quarantine_rate_fires_on_a_jump_of_one_reason(
    lake: Path, landing: Landing, settings_for: SettingsFor
) -> None:
    """Three batches with 1 unknown user in 20 streams (5%), then one with 12 in 24 (50%):
    that fires; a next one with 2 in 20 (10%, under 3x the median) and a tiny one with 1 bad
    row of 3 (under quarantine_min_rows) do not."""
    land_dimensions(landing)
    settings = settings_for(lake, freshness_alert_after_s=None)
    ghosts = [["ghost", "t1", f"2026-01-0{d} 09:00:00", ""] for d in range(1, 8)]
    for i in range(3):
        landing.streams([*plays(f"2026-01-1{i}", 19), ghosts[i]], name=f"ok{i}.csv")
        assert health.check_batches(settings, lake_for(settings), [run_batch(settings, i)]) == []
    bad = [["ghost", "t1", f"2026-01-20 09:00:{i:02d}", ""] for i in range(12)]
    landing.streams([*plays("2026-01-20", 12), *bad], name="bad.csv")
    [jump] = health.check_batches(settings, lake_for(settings), [run_batch(settings, 3)])
    assert (jump.check, jump.dataset, jump.reason) == ("quarantine_rate", "streams", "unknown_user")
    assert jump.numbers["rows"] == 12 and jump.numbers["read"] == 24
    assert jump.numbers["baseline"] == 0.05
    landing.streams([*plays("2026-01-21", 18), *ghosts[3:5]], name="mild.csv")
    assert health.check_batches(settings, lake_for(settings), [run_batch(settings, 4)]) == []
    landing.streams([*plays("2026-01-22", 2), ghosts[5]], name="tiny.csv")
    assert health.check_batches(settings, lake_for(settings), [run_batch(settings, 5)]) == []


def crafted(batch_id: str, read: int, reasons: dict[str, int], **file: Any) -> Batch:
    """A finished batch of one streams file, as the ledger records one."""
    path = f"landing/streams/{batch_id}.csv"
    entry = FileEntry("streams", path, sha256=batch_id, size=1, rows_read=read, **file)
    quality = [{"dataset": "streams", "reason": r, "rows": n} for r, n in reasons.items()]
    return Batch(batch_id, "2026-01-01T00:00:00+00:00", [entry], ARCHIVED, quality=quality)


def test_quarantine_rate_needs_history_and_skips_rejected_batches(
    settings_for: SettingsFor, lake: Path
) -> None:
    settings = settings_for(lake)
    jump = crafted("b9", 100, {"kept": 50, "unknown_track": 50})
    calm = [crafted(f"b{i}", 100, {"kept": 99, "unknown_track": 1}) for i in range(3)]
    assert len(health.check_quarantine_rate(settings, jump, calm)) == 1
    assert health.check_quarantine_rate(settings, jump, calm[:2]) == []  # too little history
    rejected = [dataclasses.replace(b, status="rejected") for b in calm]
    assert health.check_quarantine_rate(settings, jump, rejected) == []
    usual = [crafted(f"b{i}", 100, {"kept": 60, "unknown_track": 40}) for i in range(3)]
    assert health.check_quarantine_rate(settings, jump, usual) == []  # 50% is that lake's norm


# -- schema change -----------------------------------------------------------------------


def test_schema_change_names_new_and_missing_columns(
    lake: Path, landing: Landing, settings_for: SettingsFor
) -> None:
    land_dimensions(landing)
    settings = settings_for(lake, freshness_alert_after_s=None)
    landing.streams(plays("2026-01-05", 2), name="a.csv")
    first = run_batch(settings, 0)
    assert [f.columns for f in first.data_files("streams")] == [STREAM_HEADER]
    assert (
        checks(health.check_batches(settings, lake_for(settings), [first]), "schema_change") == []
    )
    header = ["User_ID", "track_id", "listen_time", "device"]  # case and order do not matter
    landing.streams([["u1", "t1", "2026-01-06 10:00:00", "phone"]], name="b.csv", header=header)
    second = run_batch(settings, 1)
    [change] = health.check_batches(settings, lake_for(settings), [second])
    assert change.check == "schema_change" and change.dataset == "streams"
    assert change.numbers == {
        "file": "landing/streams/b.csv",
        "added": ["device"],
        "missing": ["ms_played"],
    }
    landing.streams([["u2", "t1", "2026-01-07 10:00:00", "tv"]], name="c.csv", header=header)
    assert health.check_batches(settings, lake_for(settings), [run_batch(settings, 2)]) == []


def test_schema_change_skips_replays_and_files_never_read(
    settings_for: SettingsFor, lake: Path
) -> None:
    before = [crafted("b1", 1, {}, columns=["user_id", "track_id", "listen_time"])]
    replay = crafted("b2", 1, {}, columns=["user_id", "track_id", "listen_time", "from_batch"])
    replay.files[0].path = "landing/streams/replay/r1.csv"
    unread = crafted("b3", 0, {})
    assert health.check_schema(replay, before) == []
    assert health.check_schema(unread, before) == []
    moved = dataclasses.replace(replay, files=[dataclasses.replace(replay.files[0], path="x")])
    assert [w.numbers["added"] for w in health.check_schema(moved, before)] == [["from_batch"]]


def test_old_manifests_without_columns_still_load(
    lake: Path, landing: Landing, settings_for: SettingsFor
) -> None:
    land_dimensions(landing)
    landing.streams(plays("2026-01-05", 2))
    settings = settings_for(lake)
    batch = run_batch(settings)
    manifest = lake / f"_state/batches/{batch.batch_id}.json"
    obj = json.loads(manifest.read_text())
    assert all("columns" in f for f in obj["files"])
    for f in obj["files"]:
        del f["columns"]
    manifest.write_text(json.dumps(obj))
    old = Ledger(lake_for(settings)).get(batch.batch_id)
    assert [f.columns for f in old.files] == [None, None, None]
    assert health.check_schema(old, [batch]) == []
