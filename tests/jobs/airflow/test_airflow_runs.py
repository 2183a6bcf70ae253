"""The DAG end to end with ``dag.test()`` in a private AIRFLOW_HOME (SQLite metadata DB).

One lake lives through four runs: a clean batch (its KPIs must equal those of
``musicstream run`` on the same files), a dirty batch above ``max_bad_ratio`` (rejected,
run failed, webhook notified), an empty landing (skipped), and a backfill run.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
import pytest
from airflow_env import MARKS, clean_env, run_script

from conftest import SONG_HEADER, STREAM_HEADER, USER_HEADER
from musicstream.datasets import KPIS

pytestmark = MARKS

SONGS = [
    SONG_HEADER,
    [0, "t1", "A;B", "X", "One", 50, 1000, "False", 0.5, "pop"],
    [1, "t2", "B", "X", "Two", 60, 2000, "True", 0.5, "rock"],
    [2, "t3", "C", "Y", "Three", 70, 3000, "False", 0.5, "jazz"],
]
USERS = [
    USER_HEADER,
    ["u1", "a", 30, "US", ""],
    ["u2", "b", 40, "FR", "2026-01-01"],
    ["u3", "c", 25, "", ""],
]


def write_csv(path: Path, rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)


def clean_landing(folder: Path) -> None:
    """20 streams over three days, one of them from an unknown user (5% quarantined)."""
    write_csv(folder / "songs/songs.csv", SONGS)
    write_csv(folder / "users/users.csv", USERS)
    plays = [
        [
            f"u{1 + i % 3}",
            f"t{1 + i % 4 % 3}",
            f"2026-01-0{1 + i % 3} 1{i % 10}:00:00",
            "" if i % 2 else 500 + i,
        ]
        for i in range(19)
    ]
    write_csv(
        folder / "streams/day1.csv",
        [STREAM_HEADER, *plays, ["ghost", "t1", "2026-01-02 09:00:00", ""]],
    )


def dirty_landing(folder: Path) -> None:
    """Two of three streams bad: above the DAG's default max_bad_ratio of 10%."""
    write_csv(
        folder / "streams/dirty.csv",
        [
            STREAM_HEADER,
            ["u1", "t1", "2026-01-04 10:00:00", ""],
            ["ghost", "t1", "2026-01-04 11:00:00", ""],
            ["u1", "nope", "2026-01-04 12:00:00", ""],
        ],
    )


def kpis(lake: Path) -> dict[str, list[str]]:
    """Every KPI row in the lake and in the SQLite store, as sorted reprs."""
    out = {}
    con = sqlite3.connect(lake / "_state/kpis.sqlite")
    for table in KPIS:
        rows = [
            repr((str(part.parent.relative_to(lake / "kpis" / table)), row))
            for part in sorted((lake / "kpis" / table).rglob("data.parquet"))
            for row in pq.read_table(part).to_pylist()
        ]
        out[table] = sorted(rows)
        out[f"store.{table}"] = sorted(map(repr, con.execute(f"select * from {table}")))
    con.close()
    return out


class Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # keep pytest output quiet
        pass


@pytest.fixture(scope="session")
def webhook() -> Any:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", Webhook.received
    server.shutdown()


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh AIRFLOW_HOME with its SQLite metadata DB migrated (`airflow db migrate`)."""
    home = tmp_path_factory.mktemp("airflow_home")
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run(
        [str(airflow), "db", "migrate"],
        env=clean_env(home),
        check=True,
        capture_output=True,
        timeout=300,
        cwd=home,
    )
    return home


@pytest.fixture(scope="module")
def runs(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory, webhook: Any) -> dict:
    """Four DAG runs on one lake, and `musicstream run` on a copy of the clean landing."""
    url, received = webhook
    base = tmp_path_factory.mktemp("runs")
    clean_landing(base / "clean")
    dirty_landing(base / "dirty")
    cli_lake = base / "cli-lake"
    shutil.copytree(base / "clean", cli_lake / "landing")
    subprocess.run(
        [sys.executable, "-m", "musicstream", "run", "--lake", str(cli_lake)],
        env=clean_env(airflow_home),
        check=True,
        capture_output=True,
        timeout=300,
        cwd=base,
    )
    lake = base / "lake"
    (lake / "landing").mkdir(parents=True)
    env = clean_env(
        airflow_home,
        MUSICSTREAM_LAKE=str(lake),
        MUSICSTREAM_WEBHOOK_URL=url,
        MUSICSTREAM_AIRFLOW_RETRIES="0",
        MUSICSTREAM_AIRFLOW_SENSOR_POKE_S="1",
        MUSICSTREAM_AIRFLOW_SENSOR_TIMEOUT_S="2",
    )
    scenarios = [
        {"name": "clean", "land": str(base / "clean")},
        {"name": "dirty", "land": str(base / "dirty")},
        {"name": "empty"},
        {"name": "backfill", "conf": {"backfill_from": "2026-01-01", "backfill_to": "2026-01-31"}},
    ]
    results = run_script("dag_runner.py", env, scenarios, timeout=600)
    return {
        "runs": {s["name"]: r for s, r in zip(scenarios, results, strict=True)},
        "lake": lake,
        "kpis": kpis(lake),  # after all four runs
        "cli": kpis(cli_lake),
        "webhooks": list(received),
    }


def test_clean_batch_runs_every_stage(runs: dict) -> None:
    run = runs["runs"]["clean"]
    assert run["state"] == "success"
    ran = {
        "route",
        "wait_for_landing",
        "plan",
        "validate",
        "quality_gate",
        "compute_kpis",
        "load",
        "archive",
    }
    assert {t for t, s in run["tasks"].items() if s == "success"} == ran
    assert {t for t, s in run["tasks"].items() if s == "skipped"} == {"backfill", "reject"}
    [event] = run["asset_events"]
    assert event["uri"].endswith("/kpis")
    assert event["extra"]["dates"] == ["2026-01-01", "2026-01-02", "2026-01-03"]


def test_dag_kpis_equal_those_of_musicstream_run(runs: dict) -> None:
    assert runs["kpis"]["genre_daily"]  # not vacuous
    assert runs["kpis"] == runs["cli"]  # after the rejected batch too: it left no trace


def test_dirty_batch_fails_the_run_and_notifies(runs: dict) -> None:
    run = runs["runs"]["dirty"]
    assert run["state"] == "failed"
    assert run["tasks"]["reject"] == "failed"
    assert {run["tasks"][t] for t in ("compute_kpis", "load", "archive")} == {"skipped"}
    assert not run["asset_events"]
    rejected = [w for w in runs["webhooks"] if w["status"] == "rejected"]
    assert len(rejected) == 1
    assert "streams quarantined 66.7% of its rows (max_bad_ratio 10.0%)" in rejected[0]["error"]
    assert rejected[0]["airflow"]["task_id"] == "reject"
    lake = runs["lake"]
    manifests = [json.loads(p.read_text()) for p in (lake / "_state/batches").glob("*.json")]
    assert sorted(m["status"] for m in manifests) == ["archived", "rejected"]
    assert not list((lake / "landing").rglob("*.csv"))


def test_empty_landing_skips_quietly(runs: dict) -> None:
    run = runs["runs"]["empty"]
    assert run["state"] == "success"
    assert run["tasks"]["route"] == "success"
    assert {s for t, s in run["tasks"].items() if t != "route"} == {"skipped"}


def test_backfill_run_recomputes_the_range_and_notifies(runs: dict) -> None:
    run = runs["runs"]["backfill"]
    assert run["state"] == "success" and run["tasks"]["backfill"] == "success"
    assert run["tasks"]["wait_for_landing"] == "skipped"
    [event] = run["asset_events"]
    assert event["extra"]["dates"] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    ok = [w for w in runs["webhooks"] if w["status"] == "ok"]
    assert [w["airflow"]["task_id"] for w in ok] == ["archive", "backfill"]
    assert ok[0]["dates"] == ok[1]["dates"] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert ok[0]["datasets"]["streams"]["quarantined"] == 1
