"""A damaged ledger file: `run` and `status` name it and the command that repairs it;
`musicstream repair` sets it aside and restores the lake, whose next run ends with the KPIs of
a lake that was never damaged."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Landing, cli, land_first, read_table
from musicstream.datasets import KPI_KEYS, KPIS
from musicstream.errors import LedgerDamaged
from musicstream.lake import open_lake
from musicstream.pipeline import tasks
from musicstream.state import Ledger

Run = Callable[..., dict[str, Any]]


def land_second(landing: Landing) -> None:
    """A second batch: a new user, a late stream for 2026-01-03 and a new date."""
    landing.users([["u3", "c", 40, "DE", ""]], name="u2.csv")
    landing.streams(
        [["u3", "t1", "2026-01-03 12:00:00", ""], ["u1", "t2", "2026-01-04 09:00:00", 7]],
        name="b.csv",
    )


def kpis(lake: Path) -> dict[str, Any]:
    """Every KPI table (rows in key order), and batch quality without batch ids (a redone
    batch gets a new id)."""
    tables: dict[str, Any] = {
        t: sorted(read_table(lake, t), key=lambda r: [str(r[k]) for k in KPI_KEYS[t]]) for t in KPIS
    }
    quality = read_table(lake, "batch_quality")
    tables["batch_quality"] = sorted((r["dataset"], r["reason"], r["rows"]) for r in quality)
    return tables


def store_rows(lake: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(lake / "_state" / "kpis.sqlite")
    try:
        return con.execute("select * from genre_daily order by report_date, genre").fetchall()
    finally:
        con.close()


def manifest(lake: Path, batch_id: str) -> Path:
    return lake / "_state" / "batches" / f"{batch_id}.json"


def error_line(proc: subprocess.CompletedProcess[str], path: Path, lake: Path) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert f"damaged ledger file {path}" in line
    assert f"musicstream repair --lake {lake}" in line


@pytest.fixture
def reference(tmp_path: Path, run: Run) -> Path:
    """The same two batches on a lake that was never damaged."""
    lake = tmp_path / "reference"
    landing = Landing(lake)
    land_first(landing)
    run(lake)
    land_second(landing)
    run(lake)
    return lake


def test_damaged_archived_batch_is_rebuilt_from_the_archive(
    lake: Path, landing: Landing, run: Run
) -> None:
    land_first(landing)
    first = run(lake)["batch_ids"][0]
    land_second(landing)
    second = run(lake)["batch_ids"][0]
    before, kpis_before = Ledger(open_lake(str(lake))).get(first), kpis(lake)
    damaged = manifest(lake, first).read_bytes()[:60]  # truncated
    manifest(lake, first).write_bytes(damaged)

    error_line(cli("run", "--lake", str(lake)), manifest(lake, first), lake)
    status = cli("status", "--lake", str(lake), "--log-format", "json")
    assert status.returncode == 0, status.stderr[-2000:]
    report = json.loads(status.stdout)
    assert [b["batch_id"] for b in report["batches"]] == [second]
    assert [d["file"] for d in report["damaged"]] == [f"_state/batches/{first}.json"]

    repaired = cli("repair", "--lake", str(lake))
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    assert f"{first}: rebuilt as archived" in repaired.stdout
    assert (lake / "_state" / "damaged" / f"{first}.json").read_bytes() == damaged
    rebuilt = Ledger(open_lake(str(lake))).get(first)
    assert rebuilt.status == "archived"
    assert (rebuilt.clock, rebuilt.dates) == (before.clock, before.dates)
    assert sorted((f.path, f.sha256, f.size) for f in rebuilt.files) == sorted(
        (f.path, f.sha256, f.size) for f in before.files
    )

    archived = next((lake / "archive").glob(f"streams/*/{first}/a.csv"))
    (lake / "landing" / "streams" / "again.csv").write_bytes(archived.read_bytes())
    run(lake)  # a re-landed copy of an archived file is still recognised
    (again,) = Ledger(open_lake(str(lake))).batches()[-1].files
    assert again.duplicate_of == "landing/streams/a.csv"
    assert kpis(lake) == kpis_before


def test_damaged_interrupted_batch_is_undone_and_run_again(
    lake: Path, landing: Landing, run: Run, settings_for: Callable[..., Any], reference: Path
) -> None:
    land_first(landing)
    first = run(lake)["batch_ids"][0]
    land_second(landing)
    settings = settings_for(lake)
    second = tasks.plan_batch(settings)["batch_id"]
    assert tasks.validate_batch(settings, second)["status"] == "curated"
    manifest(lake, second).write_text('{"batch_id": "' + second + '"}')  # JSON, wrong shape

    error_line(cli("run", "--lake", str(lake)), manifest(lake, second), lake)
    status = cli("status", "--lake", str(lake))
    assert status.returncode == 0, status.stderr[-2000:]
    assert first[:12] in status.stdout  # the rest of the ledger still shows
    assert f"damaged ledger file {manifest(lake, second)}" in status.stdout

    repaired = cli("repair", "--lake", str(lake))
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    assert f"{second}: undone" in repaired.stdout
    assert not list((lake / "curated" / "streams").glob(f"*/{second}.parquet"))
    assert (lake / "_state" / "damaged" / f"{second}.json").exists()
    assert cli("repair", "--lake", str(lake)).stdout.startswith("The ledger of")  # once is enough

    run(lake)
    assert kpis(lake) == kpis(reference)
    assert store_rows(lake) == store_rows(reference)
    statuses = [b.status for b in Ledger(open_lake(str(lake))).batches()]
    assert statuses == ["archived", "archived"]


GOOD = {
    "batch_id": "20260101T000000Z-00000000",
    "clock": "2026-01-01T00:00:00+00:00",
    "files": [{"dataset": "streams", "path": "landing/streams/a.csv", "sha256": "ab", "size": 3}],
    "status": "archived",
}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (json.dumps(GOOD).encode()[:40], "not valid JSON"),
        (b'{"batch_id": "\xff"}', "not UTF-8"),
        (b"[]", "not a batch manifest"),
        (b'{"a": 1}', "not a batch manifest"),
        (json.dumps({**GOOD, "status": "done"}).encode(), "unknown status"),
        (json.dumps({**GOOD, "batch_id": "other"}).encode(), "records batch 'other'"),
        (json.dumps({**GOOD, "clock": "noon"}).encode(), "noon"),
        (json.dumps({**GOOD, "files": [{"path": "x"}]}).encode(), "missing"),
        (json.dumps({**GOOD, "files": [{**GOOD["files"][0], "size": "3"}]}).encode(), "bad file"),
    ],
)
def test_every_kind_of_damage_is_one_line_naming_the_file(
    lake: Path, content: bytes, reason: str
) -> None:
    path = manifest(lake, GOOD["batch_id"])
    path.parent.mkdir(parents=True)
    path.write_bytes(json.dumps(GOOD).encode())
    assert Ledger(open_lake(str(lake))).batches()[0].status == "archived"  # the good one reads
    path.write_bytes(content)
    with pytest.raises(LedgerDamaged) as caught:
        Ledger(open_lake(str(lake))).batches()
    message = str(caught.value)
    assert str(path) in message and reason in message and "musicstream repair" in message
    assert "\n" not in message
