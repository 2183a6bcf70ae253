"""`musicstream watch` as a user runs it (real processes, real signals, a real lake): every
landed file is processed exactly once, a file still being written waits until it settles,
SIGTERM lets the batch finish, kill -9 then a restart ends where an uninterrupted run does,
and two watchers on one lake never both write."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import read_table
from musicstream import pipeline
from musicstream.datasets import KPI_TABLES, PERIOD_TABLES
from musicstream.generate import generate
from musicstream.lake import open_lake
from musicstream.lock import read_lock
from musicstream.settings import load_settings

pytestmark = pytest.mark.slow  # real watch processes on a generated 40k-stream landing

TABLES = (*KPI_TABLES, *PERIOD_TABLES)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated landing: songs, users, and 40k streams over three days in two files."""
    out = tmp_path_factory.mktemp("source")
    generate(out, streams=40_000, songs=1500, users=3000, days=3, seed=9, stream_files=2)
    return out


@pytest.fixture(scope="module")
def reference(source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What one uninterrupted `run` of everything makes of it."""
    lake = tmp_path_factory.mktemp("reference")
    shutil.copytree(source, lake / "landing")
    pipeline.run(load_settings(lake=str(lake), settle_s=0, progress=False))
    return kpis(lake)


def kpis(lake: Path) -> dict[str, Any]:
    """The KPI tables of the lake and of its store (a pure function of the data landed)."""
    import sqlite3

    with sqlite3.connect(lake / "_state" / "kpis.sqlite") as con:
        store = {t: sorted(con.execute(f"select * from {t}").fetchall()) for t in TABLES}
    return {"lake": {t: sorted(map(repr, read_table(lake, t))) for t in TABLES}, "store": store}


class Watcher:
    """A `musicstream watch --log-format json` process on a lake."""

    def __init__(self, lake: Path, settle_s: float = 0.2) -> None:
        env = {**os.environ, "MUSICSTREAM_SETTLE_S": str(settle_s), "COLUMNS": "200"}
        command = ["watch", "--lake", str(lake), "--log-format", "json"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "musicstream", *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.out = ""
        self.err = ""

    def wait_for(self, text: str) -> None:
        """Read its log (stderr) until a line holds ``text``."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err += line
            if text in line:
                return
        raise AssertionError(f"the watcher ended without logging {text!r}: {self.err}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=120)
        self.out += out
        self.err += err
        return self.proc.returncode

    def outcomes(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.startswith("{")]


@pytest.fixture
def watchers() -> Iterator[Callable[..., Watcher]]:
    started: list[Watcher] = []

    def start(lake: Path, settle_s: float = 0.2) -> Watcher:
        started.append(Watcher(lake, settle_s))
        return started[-1]

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.communicate()


def until(check: Callable[[], bool], timeout_s: float = 90, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


def ledger(lake: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((lake / "_state/batches").glob("*.json"))]


def processed(lake: Path) -> list[str]:
    """Every landed file the lake's archived batches took, with repeats."""
    return sorted(f["path"] for b in ledger(lake) if b["status"] == "archived" for f in b["files"])


def land(source: Path, lake: Path, *names: str) -> list[str]:
    """Copy files of ``source`` into landing (written under a temporary name, then renamed,
    as a well-behaved uploader does); their landing paths."""
    landed = []
    for name in names:
        target = lake / "landing" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(source / name, partial)
        partial.rename(target)
        landed.append(f"landing/{name}")
    return landed


def names(source: Path) -> list[str]:
    return sorted(str(p.relative_to(source)) for p in source.rglob("*.csv"))


def in_batch(lake: Path) -> bool:
    """A run holds the lake's lock and has planned a batch it has not finished (a run that
    found nothing settled holds the lock too)."""
    locked = read_lock(open_lake(str(lake))) is not None
    return locked and any(b["status"] != "archived" for b in ledger(lake))


def test_files_landed_while_watching_are_processed_exactly_once(
    source: Path, reference: dict[str, Any], tmp_path: Path, watchers: Callable[..., Watcher]
) -> None:
    lake = tmp_path / "lake"
    (lake / "landing").mkdir(parents=True)
    watcher = watchers(lake)
    files = names(source)
    landed = land(source, lake, *[n for n in files if not n.startswith("streams")])
    until(lambda: processed(lake) == landed, what="the dimensions")
    streams = [n for n in files if n.startswith("streams")]
    landed += land(source, lake, streams[0])
    until(lambda: len(processed(lake)) == 3, what="the first streams file")
    landed += land(source, lake, streams[1])
    until(lambda: len(processed(lake)) == 4, what="the second streams file")
    time.sleep(0.5)  # long enough for a second take of any of them
    assert watcher.stop() == 0, watcher.err
    assert processed(lake) == sorted(landed)
    assert not list((lake / "landing").rglob("*.csv"))
    assert kpis(lake) == reference  # batch boundaries do not change a KPI
    outcomes = watcher.outcomes()
    assert [o["status"] for o in outcomes] == ["ok"] * len(outcomes)
    assert sorted(b for o in outcomes for b in o["batch_ids"]) == [
        b["batch_id"] for b in ledger(lake)
    ]
    assert all(o["freshness_s"] is not None and o["freshness_s"] >= 0 for o in outcomes)


def test_a_file_still_being_written_waits_until_it_settles(
    source: Path, tmp_path: Path, watchers: Callable[..., Watcher]
) -> None:
    lake = tmp_path / "lake"
    land_all = [n for n in names(source) if not n.startswith("streams")]
    (lake / "landing").mkdir(parents=True)
    land(source, lake, *land_all)
    watcher = watchers(lake, settle_s=1.0)
    until(lambda: len(processed(lake)) == 2, what="the dimensions")
    streams = next(n for n in names(source) if n.startswith("streams"))
    rows = (source / streams).read_text().splitlines(keepends=True)
    growing = lake / "landing" / "streams" / "growing.csv"
    growing.parent.mkdir(exist_ok=True)
    with growing.open("w") as out:  # a slow upload, in place, under its final name
        for first in range(0, 4001, 500):
            out.write("".join(rows[first : first + 500]))
            out.flush()
            time.sleep(0.3)
            assert len(processed(lake)) == 2, "taken while still being written"
    until(lambda: len(processed(lake)) == 3, what="the settled file")
    assert watcher.stop() == 0, watcher.err
    entry = next(f for b in ledger(lake) for f in b["files"] if f["path"].endswith("growing.csv"))
    assert entry["rows_read"] == 4500 - 1  # the whole file (less its header), once


def in_a_batch(source: Path, lake: Path, watchers: Callable[..., Watcher]) -> tuple[Path, Watcher]:
    """A watcher on a new lake, inside the batch of everything ``source`` has."""
    (lake / "landing").mkdir(parents=True)
    watcher = watchers(lake)
    time.sleep(0.5)  # watching before the files land
    land(source, lake, *names(source))
    until(lambda: in_batch(lake), what="a batch to start")
    return lake, watcher


def test_sigterm_mid_batch_lets_the_batch_finish_then_exits_0(
    source: Path, reference: dict[str, Any], tmp_path: Path, watchers: Callable[..., Watcher]
) -> None:
    lake, watcher = in_a_batch(source, tmp_path / "lake", watchers)
    assert watcher.stop(signal.SIGTERM) == 0, watcher.err
    assert not in_batch(lake)
    assert [b["status"] for b in ledger(lake)] == ["archived"]
    assert kpis(lake) == reference
    assert [o["status"] for o in watcher.outcomes()] == ["ok"]
    assert "Traceback" not in watcher.err


def test_kill_9_mid_batch_then_a_restart_ends_as_an_uninterrupted_run(
    source: Path, reference: dict[str, Any], tmp_path: Path, watchers: Callable[..., Watcher]
) -> None:
    lake, first = in_a_batch(source, tmp_path / "lake", watchers)
    time.sleep(0.4)  # somewhere inside the batch
    first.stop(signal.SIGKILL)
    again = watchers(lake)  # finds the dead holder's lock and the unfinished batch
    until(lambda: len(processed(lake)) == len(names(source)), what="the batch to finish")
    assert again.stop() == 0, again.err
    assert processed(lake) == sorted(f"landing/{n}" for n in names(source))
    assert kpis(lake) == reference


def test_a_second_signal_stops_at_once_and_a_run_finishes_the_batch(
    source: Path, reference: dict[str, Any], tmp_path: Path, watchers: Callable[..., Watcher]
) -> None:
    lake, watcher = in_a_batch(source, tmp_path / "lake", watchers)
    watcher.proc.send_signal(signal.SIGINT)
    time.sleep(0.1)  # two signals at once are one to the process
    code = watcher.stop(signal.SIGINT)
    if code == 0:  # the batch finished within the 0.1 s
        assert [b["status"] for b in ledger(lake)] == ["archived"]
    else:
        assert code == 130
        assert watcher.err.strip().splitlines()[-1] == (
            "stopped by SIGINT during a batch: the next run or watch finishes it"
        )
    assert "Traceback" not in watcher.err
    pipeline.run(load_settings(lake=str(lake), settle_s=0, progress=False))
    assert kpis(lake) == reference


def test_a_second_signal_inside_a_query_stops_at_once_not_a_failed_batch(
    tmp_path: Path, watchers: Callable[..., Watcher]
) -> None:
    """The second signal lands while DuckDB validates the streams, and DuckDB answers a
    handler that raises with an error of its own ("Query interrupted"): that is still the
    stop, not a failed batch to retry (which had exited 0 with the batch unfinished), nor a
    file to validate again alone."""
    source = tmp_path / "source"  # streams enough for validation to run a while
    generate(source, streams=300_000, songs=1500, users=3000, days=3, seed=4, stream_files=1)
    lake = tmp_path / "lake"
    (lake / "landing").mkdir(parents=True)
    land(source, lake, *names(source))
    watcher = watchers(lake, settle_s=0)
    watcher.wait_for("validate:streams started")
    time.sleep(0.15)  # inside its queries
    for sig in (signal.SIGSTOP, signal.SIGINT, signal.SIGTERM, signal.SIGCONT):
        watcher.proc.send_signal(sig)  # both delivered at once, SIGINT first
    assert watcher.stop() == 143, watcher.err
    assert watcher.err.strip().splitlines()[-1] == (
        "stopped by SIGTERM during a batch: the next run or watch finishes it"
    )
    assert "batch failed" not in watcher.err
    assert "alone" not in watcher.err
    assert [b["status"] for b in ledger(lake)] == ["planned"]
    pipeline.run(load_settings(lake=str(lake), settle_s=0, progress=False))
    reference = tmp_path / "reference"
    shutil.copytree(source, reference / "landing")
    pipeline.run(load_settings(lake=str(reference), settle_s=0, progress=False))
    assert kpis(lake) == kpis(reference)


def test_two_watchers_on_one_lake_never_both_write(
    source: Path, reference: dict[str, Any], tmp_path: Path, watchers: Callable[..., Watcher]
) -> None:
    lake = tmp_path / "lake"
    (lake / "landing").mkdir(parents=True)
    pair = [watchers(lake), watchers(lake)]
    time.sleep(1.0)
    files = names(source)
    dimensions = [n for n in files if not n.startswith("streams")]
    streams = [n for n in files if n.startswith("streams")]
    for wave in (dimensions, streams[:1], streams[1:]):  # dimensions, then a streams file each
        land(source, lake, *wave)
        time.sleep(0.3)
    until(lambda: len(processed(lake)) == len(files), what="every file")
    assert [w.stop() for w in pair] == [0, 0], [w.err for w in pair]
    assert processed(lake) == sorted(f"landing/{n}" for n in files)  # each exactly once
    taken = [b for w in pair for o in w.outcomes() if o["status"] == "ok" for b in o["batch_ids"]]
    assert sorted(taken) == [b["batch_id"] for b in ledger(lake)]  # no batch by both
    statuses = {o["status"] for w in pair for o in w.outcomes()}
    assert statuses <= {"ok", "locked"}
    assert kpis(lake) == reference


@pytest.mark.aws
def test_on_s3_the_watcher_lists_landing_and_takes_what_lands(
    aws_env: None, aws_settings: Callable[..., Any], tmp_path: Path
) -> None:
    """No file events on S3: a listing every watch_interval_s finds the batches."""
    from aws_local import land as land_batch

    settings = aws_settings(settle_s=0, watch_interval_s=0.3)
    env = {**os.environ, "COLUMNS": "200", "MUSICSTREAM_WATCH_INTERVAL_S": "0.3"}
    env |= {
        "MUSICSTREAM_SETTLE_S": "0",
        "MUSICSTREAM_STORE": "dynamodb",
        "MUSICSTREAM_STORE_PREFIX": settings.store_prefix,
        "MUSICSTREAM_AWS_ENDPOINT_URL": str(settings.aws_endpoint_url),
        "MUSICSTREAM_AWS_REGION": str(settings.aws_region),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "musicstream", "watch", "--lake", settings.lake],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    try:
        for batch in (0, 1):
            land_batch(settings, batch)
            until(lambda: not lake.files("landing"), what=f"batch {batch} to be taken")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "a listing every 0.3 s" in err
    lines = [line for line in out.splitlines() if " ok: " in line]
    assert len(lines) == 2, out
