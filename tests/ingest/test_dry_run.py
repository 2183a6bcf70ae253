"""`musicstream validate` predicts exactly what `run` does with the same files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Landing, cli, land_first

from .test_hostile import land_hostile

pytestmark = pytest.mark.slow  # the CLI on every hostile file, twice

STREAMS = "user_id,track_id,listen_time,ms_played\n"


def _predicted(folder: Path, lake: Path) -> dict[str, tuple[int, int, dict[str, int]]]:
    proc = cli("validate", str(folder), "--lake", str(lake), "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    return {
        Path(f["file"]).name: (f["kept"], f["quarantined"], f["reasons"])
        for f in json.loads(proc.stdout)["files"]
    }


def _actual(lake: Path) -> dict[str, tuple[int, int, dict[str, int]]]:
    proc = cli("run", "--lake", str(lake), "--log-format", "json")
    assert proc.returncode == 0, proc.stderr
    (batch,) = json.loads(proc.stdout)["batches"]
    got = {}
    for f in batch["files"]:
        reasons = {f["reason"]: f["rows_read"]} if f["reason"] else {}
        got[Path(f["path"]).name] = (f["rows_kept"], f["rows_quarantined"], reasons)
    return got


def test_validate_predicts_duplicates_against_the_lake(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    land_first(Landing(lake))
    assert cli("run", "--lake", str(lake)).returncode == 0
    incoming = tmp_path / "incoming" / "streams"
    incoming.mkdir(parents=True)
    rows = (
        "u1,t1,2026-01-02 10:00:00,\n"  # already in the lake: duplicate_event
        "u2,t2,2026-01-03T10:00:00Z,5\n"  # the same instant spelled otherwise: duplicate
        "u1,t2,2026-01-04 10:00:00,\n"  # new
        "u1,t2,2026-01-04 10:00:00,\n"  # a copy within the file
        "ghost,t1,2026-01-04 11:00:00,\n"
    )
    (incoming / "more.csv").write_text(STREAMS + rows)
    predicted = _predicted(incoming, lake)
    assert predicted["more.csv"] == (1, 4, {"duplicate_event": 3, "unknown_user": 1})
    shutil.copy(incoming / "more.csv", lake / "landing/streams/more.csv")
    actual = _actual(lake)
    assert actual["more.csv"][:2] == predicted["more.csv"][:2]


def test_validate_and_run_agree_on_every_hostile_file(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    land_hostile(source)
    lake = tmp_path / "lake"
    lake.mkdir()
    land_hostile(lake)  # the same files again (copying would block on the fifo)
    predicted = _predicted(source / "landing", lake)
    actual = _actual(lake)
    for name, (kept, quarantined, _) in actual.items():
        assert predicted[name][:2] == (kept, quarantined), name
