"""The stages one call at a time (as Airflow runs them), and the quality gate."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import Landing, read_curated_streams, read_table, song
from musicstream import archive, notify, pipeline
from musicstream.datasets import KPIS
from musicstream.errors import QualityGateFailed, UserError
from musicstream.pipeline import tasks

CLOCK = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def seed(landing: Landing) -> None:
    landing.songs([song(0, "t1", "pop", 1000, "A;B"), song(1, "t2", "rock", 2000, "B")])
    landing.users([["u1", "a", 30, "US", ""], ["u2", "b", 30, "FR", ""]])
    rows = [["u1", "t1", f"2026-01-0{d} 10:00:00", ""] for d in range(1, 6)]
    landing.streams([*rows, ["u2", "t2", "2026-01-02 11:00:00", 5]], name="good.csv")


def dirty(landing: Landing) -> None:
    """A batch that changes a genre and a country, with 2 of 3 streams bad."""
    landing.songs([song(0, "t1", "jazz", 1000, "A")], name="songs2.csv")
    landing.users([["u1", "a", 30, "DE", ""]], name="users2.csv")
    landing.streams(
        [
            ["u1", "t1", "2026-01-07 10:00:00", ""],
            ["ghost", "t1", "2026-01-07 11:00:00", ""],
            ["u1", "nope", "2026-01-07 12:00:00", ""],
        ],
        name="dirty.csv",
    )


def observable(lake: Path) -> dict:
    """KPIs in the lake and the store, curated streams and dimensions."""
    con = sqlite3.connect(lake / "_state" / "kpis.sqlite")
    return {
        "kpis": {t: sorted(map(repr, read_table(lake, t))) for t in KPIS},
        "store": {t: sorted(con.execute(f"select * from {t}").fetchall()) for t in KPIS},
        "curated": sorted(map(repr, read_curated_streams(lake))),
        "dims": {d: (lake / f"curated/{d}/{d}.parquet").read_bytes() for d in ("songs", "users")},
    }


def statuses(lake: Path) -> list[str]:
    return sorted(json.loads(p.read_text())["status"] for p in lake.glob("_state/batches/*"))


def step_by_step(settings) -> dict:
    """What the DAG does, one stage per call (each its own lock and engine)."""
    planned = tasks.plan_batch(settings, clock=CLOCK)
    assert planned is not None
    batch_id = planned["batch_id"]
    tasks.validate_batch(settings, batch_id)
    assert tasks.check_quality(settings, batch_id)["passed"]
    tasks.compute_batch_kpis(settings, batch_id)
    tasks.load_batch(settings, batch_id)
    return tasks.archive_batch(settings, batch_id)


def test_stages_one_by_one_equal_a_pipeline_run(tmp_path: Path, settings_for) -> None:
    lakes = {}
    for name in ("steps", "run"):
        lakes[name] = tmp_path / name
        lakes[name].mkdir()
        seed(Landing(lakes[name]))
    done = step_by_step(settings_for(lakes["steps"]))
    pipeline.run(settings_for(lakes["run"]), clock=CLOCK)
    assert done["status"] == "archived" and len(done["dates"]) == 5
    assert observable(lakes["steps"]) == observable(lakes["run"])
    assert tasks.plan_batch(settings_for(lakes["steps"])) is None  # nothing new: skip


def test_each_stage_is_idempotent_and_in_order(lake: Path, landing: Landing, settings_for) -> None:
    seed(landing)
    settings = settings_for(lake)
    batch_id = tasks.plan_batch(settings)["batch_id"]
    assert tasks.plan_batch(settings)["batch_id"] == batch_id  # unfinished first
    with pytest.raises(UserError, match="not yet computed"):
        tasks.load_batch(settings, batch_id)
    for _ in range(2):
        tasks.validate_batch(settings, batch_id)
    tasks.compute_batch_kpis(settings, batch_id)
    tasks.compute_batch_kpis(settings, batch_id)
    assert tasks.validate_batch(settings, batch_id)["status"] == "computed"  # past it: no-op
    tasks.load_batch(settings, batch_id)
    tasks.archive_batch(settings, batch_id)
    tasks.archive_batch(settings, batch_id)
    assert statuses(lake) == ["archived"]
    with pytest.raises(UserError, match="no batch"):
        tasks.validate_batch(settings, "19990101T000000Z-00000000")


def test_quality_gate_rejects_without_a_trace_and_does_not_wedge(
    lake: Path, landing: Landing, settings_for, monkeypatch
) -> None:
    sent: list[dict] = []
    monkeypatch.setattr(notify, "notify", lambda settings, summary: sent.append(summary))
    seed(landing)
    pipeline.run(settings_for(lake))
    before = observable(lake)
    dirty(landing)
    with pytest.raises(QualityGateFailed, match=r"streams quarantined 66\.7%"):
        pipeline.run(settings_for(lake, max_bad_ratio=0.5))
    assert sent[-1]["status"] == "rejected" and "max_bad_ratio 50.0%" in sent[-1]["error"]
    assert observable(lake) == before  # curated streams, dimensions, KPIs, store: untouched
    assert statuses(lake) == ["archived", "rejected"]
    assert not list((lake / "landing").rglob("*.csv"))  # archived, so the next run is free
    rejected = sent[-1]["batch_ids"][0]
    assert (lake / f"quarantine/streams/batch_id={rejected}/quarantine.parquet").exists()
    assert (lake / f"kpis/batch_quality/batch_id={rejected}/data.parquet").exists()
    assert not (lake / f"_state/rollback/{rejected}").exists()
    assert pipeline.run(settings_for(lake, max_bad_ratio=0.5))["status"] == "nothing_new"

    dirty(landing)  # the same files again, now accepted: not mistaken for duplicates
    summary = pipeline.run(settings_for(lake, max_bad_ratio=1.0))
    assert summary["status"] == "ok" and summary["dates"] == ["2026-01-07"]
    genres = {(r["report_date"], r["genre"]) for r in read_table(lake, "genre_daily")}
    assert ("2026-01-07", "jazz") in genres and ("2026-01-01", "pop") in genres
    assert statuses(lake) == ["archived", "archived", "rejected"]


def test_interrupted_rejection_is_finished_by_the_next_run(
    lake: Path, landing: Landing, settings_for, monkeypatch
) -> None:
    seed(landing)
    pipeline.run(settings_for(lake))
    before = observable(lake)
    dirty(landing)
    settings = settings_for(lake, max_bad_ratio=0.1)
    batch_id = tasks.plan_batch(settings)["batch_id"]
    tasks.validate_batch(settings, batch_id)
    assert not tasks.check_quality(settings, batch_id)["passed"]
    with pytest.raises(QualityGateFailed):
        tasks.compute_batch_kpis(settings, batch_id)  # the gate cannot be skipped
    real = archive.archive_batch

    def crash(*args: object) -> None:
        raise OSError("killed while archiving")

    monkeypatch.setattr(archive, "archive_batch", crash)
    with pytest.raises(OSError):
        tasks.reject_batch(settings, batch_id)
    monkeypatch.setattr(archive, "archive_batch", real)
    with pytest.raises(QualityGateFailed):
        pipeline.run(settings_for(lake))  # finishes the rejection first
    assert observable(lake) == before
    assert statuses(lake) == ["archived", "rejected"]
    assert tasks.reject_batch(settings, batch_id)["status"] == "rejected"  # no-op
    assert tasks.summarize(settings, batch_id)["status"] == "rejected"


def test_stage_command_prints_json(lake: Path, landing: Landing, settings_for) -> None:
    seed(landing)
    batch_id = tasks.plan_batch(settings_for(lake))["batch_id"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "musicstream",
            "stage",
            "validate",
            "--batch-id",
            batch_id,
            "--lake",
            str(lake),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(proc.stdout)
    assert result["status"] == "curated" and result["rows_read"] == 10
