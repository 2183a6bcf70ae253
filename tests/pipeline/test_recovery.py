"""Crash recovery and the run lock (SPEC §4): a run killed anywhere, started again, ends in
exactly the state of an uninterrupted run; two runs never both write."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import (
    Landing,
    land_first,
    read_curated_streams,
    read_quarantine,
    read_table,
    song,
)
from musicstream import pipeline
from musicstream.datasets import KPIS
from musicstream.errors import LakeLocked
from musicstream.lake import open_lake
from musicstream.layout import LOCK
from musicstream.state import run_lock

CLOCK_A = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
CLOCK_B = datetime(2026, 2, 2, 12, 0, tzinfo=UTC)


class Crash(Exception):
    """Stands in for a process dying at a step boundary."""


def land_b(landing: Landing) -> None:
    landing.songs(
        [song(0, "t1", "rock", 1000, "A"), song(1, "t3", "jazz", 3000, "C")], name="s2.csv"
    )
    landing.users([["u3", "c", 30, "", ""], ["u1", "a", 30, "DE", ""]], name="u2.csv")
    landing.streams(
        [
            ["u1", "t1", "2026-01-02T10:00:00Z", ""],
            ["u3", "t3", "2026-01-02 12:00:00", ""],
            ["u2", "t1", "2026-01-04 10:00:00", ""],
            ["u1", "t3", "2026-01-05 10:00:00", "x"],
        ],
        name="b.csv",
    )


def snapshot(lake: Path) -> dict:
    """Everything a user can observe of the lake and the store."""
    con = sqlite3.connect(lake / "_state" / "kpis.sqlite")
    manifests = [
        json.loads(p.read_text()) for p in sorted((lake / "_state/batches").glob("*.json"))
    ]
    for m in manifests:
        for volatile in ("duration_s", "stages", "loaded_at"):  # timings
            m.pop(volatile)
        for f in m["files"]:  # when and where a file was staged differs from run to run
            for volatile in ("landed", "version", "staged"):
                f.pop(volatile)
    return {
        "kpis": {t: sorted(map(repr, read_table(lake, t))) for t in KPIS},
        "quality": sorted(map(repr, read_table(lake, "batch_quality"))),
        "store": {t: sorted(con.execute(f"select * from {t}").fetchall()) for t in KPIS},
        "curated": sorted(map(repr, read_curated_streams(lake))),
        "quarantine": {
            d: sorted(map(repr, read_quarantine(lake, d))) for d in ("songs", "users", "streams")
        },
        "files": sorted(
            str(p.relative_to(lake))
            for p in lake.rglob("*")
            if p.is_file() and "_state" not in p.parts
        ),
        "ledger": manifests,
    }


def two_batches(lake: Path, settings, crash_at: str | None = None) -> None:
    landing = Landing(lake)
    land_first(landing)
    pipeline.run(settings, clock=CLOCK_A)
    land_b(landing)

    def boom(step: str) -> None:
        if step == crash_at:
            raise Crash(step)

    if crash_at is None:
        pipeline.run(settings, clock=CLOCK_B)
    else:
        with pytest.raises(Crash):
            pipeline.run(settings, on_step=boom, clock=CLOCK_B)
    pipeline.run(settings, clock=CLOCK_B + (CLOCK_B - CLOCK_A))  # a later retry


def steps_of_batch_b(tmp_path: Path, settings_for) -> list[str]:
    lake = tmp_path / "probe"
    lake.mkdir()
    land_first(Landing(lake))
    pipeline.run(settings_for(lake), clock=CLOCK_A)
    land_b(Landing(lake))
    seen: list[str] = []
    pipeline.run(settings_for(lake), on_step=seen.append, clock=CLOCK_B)
    return seen


STEPS = [
    "validate:songs",
    "curate:songs",
    "validate:users",
    "curate:users",
    "validate:streams",
    "curate:streams",
    "kpis",
    "quality",
    "load:2026-01-02",
    "load:2026-01-04",
    "commit",
    "archive",
]


def test_steps_are_the_ones_crashed_at(tmp_path: Path, settings_for) -> None:
    assert steps_of_batch_b(tmp_path, settings_for) == STEPS


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    from musicstream.settings import load_settings

    lake = tmp_path_factory.mktemp("reference") / "lake"
    lake.mkdir()
    two_batches(lake, load_settings(lake=str(lake), progress=False))
    return snapshot(lake)


@pytest.mark.parametrize("step", STEPS)
def test_crash_at_step_then_rerun_equals_uninterrupted(
    step: str, lake: Path, settings_for, reference: dict
) -> None:
    two_batches(lake, settings_for(lake), crash_at=step)
    got = snapshot(lake)
    assert got == reference


def test_second_run_does_not_write_while_lock_is_held(lake: Path, landing: Landing, run) -> None:
    land_first(landing)
    before = sorted(lake.rglob("*"))
    with run_lock(open_lake(str(lake))):
        with pytest.raises(LakeLocked, match="is locked by pid"):
            run(lake)
        with pytest.raises(LakeLocked):
            run(lake, lock_timeout_s=0.6)  # waits, then gives up
        after = sorted(p for p in lake.rglob("*") if p not in (lake / "_state", lake / LOCK))
        assert after == before
    run(lake)  # free again
    assert not (lake / LOCK).exists()


def test_cli_second_run_exits_with_one_clear_line(lake: Path, landing: Landing) -> None:
    land_first(landing)
    with run_lock(open_lake(str(lake))):
        proc = subprocess.run(
            [sys.executable, "-m", "musicstream", "run", "--lake", str(lake)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "is locked by" in proc.stderr and "Traceback" not in proc.stderr
    assert not (lake / "_state" / "batches").exists()


def test_lock_of_a_dead_process_is_taken_over(lake: Path, landing: Landing, run) -> None:
    land_first(landing)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (lake / "_state").mkdir()
    (lake / LOCK).write_text(
        json.dumps(
            {
                "host": socket.gethostname(),
                "pid": int(dead.stdout),
                "started": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    assert run(lake)["status"] == "ok"


def test_failed_run_releases_the_lock(lake: Path, landing: Landing, settings_for) -> None:
    land_first(landing)

    def boom(step: str) -> None:
        raise Crash(step)

    with pytest.raises(Crash):
        pipeline.run(settings_for(lake), on_step=boom)
    assert not (lake / LOCK).exists()
    assert os.path.exists(lake / "landing/streams/a.csv")
