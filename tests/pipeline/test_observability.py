"""What an operator sees of a run: a start and an end record per stage with its fields (JSON
and text alike), the per-stage timings and store items in the summary, the lock in
``status``, and scratch that killed runs left behind removed by the next run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import Landing, cli, land_first
from musicstream.lake import open_lake
from musicstream.state import run_lock
from musicstream.stores import STORE_COLUMNS

STAGES = [
    "plan",
    "validate:songs",
    "curate:songs",
    "validate:users",
    "curate:users",
    "validate:streams",
    "curate:streams",
    "kpis",
    "quality",
    "load",
    "verify",
    "archive",
]


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` as JSON: one that is not fails the test."""
    return [json.loads(line) for line in text.splitlines()]


def test_json_logs_carry_every_stage_with_its_fields(lake: Path, landing: Landing) -> None:
    land_first(landing)
    proc = cli("run", "--lake", str(lake), "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    [batch_id] = summary["batch_ids"]
    records = [r for r in json_lines(proc.stderr) if "stage" in r]
    assert [(r["stage"], r["event"]) for r in records] == [
        (stage, event) for stage in STAGES for event in ("start", "end")
    ]
    ends = {r["stage"]: r for r in records if r["event"] == "end"}
    assert {r["batch_id"] for r in ends.values()} == {batch_id}
    assert all(r["duration_s"] >= 0 and r["level"] == "info" for r in ends.values())
    for dataset, counts in summary["datasets"].items():
        end = ends[f"validate:{dataset}"]
        assert (end["rows_read"], end["rows_kept"], end["rows_quarantined"]) == (
            counts["read"],
            counts["kept"],
            counts["quarantined"],
        )
    assert ends["plan"]["files"] == summary["files"]
    assert ends["curate:streams"]["dates"] == ends["load"]["dates"] == len(summary["dates"])
    assert ends["verify"]["differences"] == 0

    # The summary's timings are the stages' durations, summed per kind.
    kinds: dict[str, float] = {}
    for name, end in ends.items():
        kinds[name.split(":")[0]] = kinds.get(name.split(":")[0], 0.0) + end["duration_s"]
    assert summary["stages"].keys() == kinds.keys()
    for kind, seconds in kinds.items():
        assert abs(summary["stages"][kind] - seconds) < 0.01, kind

    # Store items written: every row now in the store (a first load writes each once).
    con = sqlite3.connect(lake / "_state" / "kpis.sqlite")
    in_store = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in STORE_COLUMNS)
    assert summary["store_items_written"] == ends["load"]["store_items"] == in_store > 0
    assert summary["lag_s"] is not None and summary["lag_s"] >= 0


def test_text_logs_name_the_stage_and_its_counts(lake: Path, landing: Landing) -> None:
    """Piped output (no terminal) shows each stage as it ends, not only the final summary."""
    land_first(landing)
    proc = cli("run", "--lake", str(lake))
    assert proc.returncode == 0, proc.stderr
    flat = " ".join(proc.stderr.split())
    assert "validate:streams done in" in flat and "rows_kept=2" in flat
    assert "load done in" in flat and "store_items=" in flat
    assert "Stages: plan" in " ".join(proc.stdout.split())


def test_an_error_with_json_logs_is_a_json_line(tmp_path: Path) -> None:
    proc = cli("run", "--lake", str(tmp_path / "nowhere"), "--log-format", "json")
    assert proc.returncode == 2
    [line] = json_lines(proc.stderr)
    assert line["level"] == "error" and "nowhere" in line["msg"]


def test_status_shows_the_lock_holder_and_its_lease(lake: Path, landing: Landing) -> None:
    land_first(landing)
    with run_lock(open_lake(str(lake)), lease_s=600) as me:
        held = cli("status", "--lake", str(lake))
    assert held.returncode == 0, held.stderr
    flat = " ".join(held.stdout.split())
    assert f"locked by pid {me.pid}" in flat and "lease until 20" in flat
    assert "stale" not in flat
    free = cli("status", "--lake", str(lake))
    assert "Not locked" in free.stdout


def test_a_run_removes_the_scratch_of_killed_runs(lake: Path, landing: Landing) -> None:
    """A dead process's scratch goes, a live one's stays."""
    land_first(landing)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    tmp = lake / "_state" / "tmp"
    left = tmp / f"{dead.stdout.strip()}-{'a' * 32}"
    (left / "sub").mkdir(parents=True)
    (left / "sub" / "part.parquet").write_bytes(b"x" * 1000)
    live = tmp / f"{os.getpid()}-{'b' * 32}"
    live.mkdir()
    partial = lake / "_state" / "staged" / "c0ffee.part"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a file")
    proc = cli("run", "--lake", str(lake))
    assert proc.returncode == 0, proc.stderr
    assert not left.exists() and not partial.exists()
    assert live.exists()
