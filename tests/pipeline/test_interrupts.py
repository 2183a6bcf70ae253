"""Ctrl-C and SIGTERM at many points of a run: one line, exit 130/143, the lock released, an
"interrupted" notification — and the next run ends where an uninterrupted one would."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import read_table
from musicstream import pipeline
from musicstream.datasets import KPIS
from musicstream.generate import generate
from musicstream.settings import load_settings
from webhook import Webhook

pytestmark = pytest.mark.slow  # a real run per signal point, then its resumption

LOCK = Path("_state") / "lock.json"


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A landing zone big enough that each long stage takes a while, and its KPIs."""
    root = tmp_path_factory.mktemp("interrupts")
    generate(root / "landing", streams=5_000, songs=3_000, users=2_000, days=3, dirty=0.02)
    return root / "landing"


@pytest.fixture(scope="module")
def expected(landed: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    lake = tmp_path_factory.mktemp("uninterrupted")
    shutil.copytree(landed, lake / "landing")
    pipeline.run(load_settings(lake=str(lake), progress=False))
    return kpis(lake)


def kpis(lake: Path) -> dict[str, Any]:
    return {t: sorted(map(repr, read_table(lake, t))) for t in KPIS}


def run_until(
    lake: Path, hook: Webhook, stage: str, signals: list[int], after_s: float = 0
) -> subprocess.Popen[str]:
    """``musicstream run`` with JSON logs; ``signals`` sent ``after_s`` after ``stage``
    starts."""
    env = {**os.environ, "MUSICSTREAM_WEBHOOK_URL": hook.url}
    args = [sys.executable, "-m", "musicstream", "run", "--lake", str(lake), "--log-format", "json"]
    proc = subprocess.Popen(
        args, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    proc.lines = []  # type: ignore[attr-defined]
    for line in proc.stderr:
        proc.lines.append(line)  # type: ignore[attr-defined]
        record = json.loads(line)
        if record.get("stage") == stage and record.get("event") == "start":
            time.sleep(after_s)
            for signum in signals:
                proc.send_signal(signum)
            break
    proc.lines += proc.stderr.readlines()  # type: ignore[attr-defined]
    proc.wait(timeout=120)
    return proc


POINTS = [
    ("plan", [signal.SIGTERM]),
    ("validate:songs", [signal.SIGINT]),
    ("validate:users", [signal.SIGTERM]),
    ("validate:streams", [signal.SIGINT]),
    ("curate:streams", [signal.SIGTERM]),
    ("kpis", [signal.SIGTERM]),
    ("load", [signal.SIGINT]),
    ("kpis", [signal.SIGINT, signal.SIGINT]),  # a second signal stops at once
    ("archive", [signal.SIGTERM]),  # the last stage: the run may finish first
]


@pytest.mark.parametrize(("stage", "signals"), POINTS, ids=[f"{s}-{len(g)}" for s, g in POINTS])
def test_a_signal_stops_the_run_cleanly(
    tmp_path: Path, landed: Path, expected: dict[str, Any], stage: str, signals: list[int]
) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(landed, lake / "landing")
    hook = Webhook()
    try:
        proc = run_until(lake, hook, stage, signals)
    finally:
        hook.close()
    lines = proc.lines  # type: ignore[attr-defined]
    records = [json.loads(line) for line in lines]  # every stderr line is one JSON object
    assert not any("Traceback" in line for line in lines)
    assert not (lake / LOCK).exists()
    name = signal.Signals(signals[-1]).name
    if proc.returncode == 0:  # the signal came after the last safe point: the work is done
        assert stage == "archive", records[-3:]
        assert [s["status"] for s in hook.received] == ["ok"]
    else:
        assert proc.returncode == 128 + signals[-1], records[-3:]
        assert records[-1]["msg"].startswith(f"stopped by {name}"), records[-1]
        [summary] = hook.received
        assert summary["status"] == "interrupted" and summary["error"] == f"interrupted by {name}"
        assert summary["batch_ids"] or stage == "plan"  # the batch it stopped is named
    # The next run carries on to exactly what an uninterrupted run gives.
    assert pipeline.run(load_settings(lake=str(lake), progress=False))["status"] in (
        "ok",
        "nothing_new",
    )
    assert kpis(lake) == expected
    assert not list((lake / "landing").rglob("*.csv*"))


def test_two_signals_inside_a_query_stop_the_run_without_a_second_look_at_its_files(
    tmp_path: Path,
) -> None:
    """Both signals land while DuckDB validates the streams: the first cancels the query, the
    second raises from inside the next check DuckDB makes, which DuckDB reports as an error
    of its own ("Query interrupted"). That is the stop, not a failure for which validation
    tries each file again alone (which had delayed the stop by validating them all again)."""
    lake = tmp_path / "lake"
    generate(lake / "landing", streams=300_000, songs=1500, users=3000, days=3, seed=4)
    hook = Webhook()
    try:
        both = [signal.SIGSTOP, signal.SIGINT, signal.SIGTERM, signal.SIGCONT]  # SIGINT first
        proc = run_until(lake, hook, "validate:streams", both, after_s=0.15)
    finally:
        hook.close()
    records = [json.loads(line) for line in proc.lines]  # type: ignore[attr-defined]
    assert proc.returncode == 143, records[-3:]
    assert records[-1]["msg"].startswith("stopped by SIGTERM"), records[-1]
    assert not [r["msg"] for r in records if "alone" in r["msg"]]
    [summary] = hook.received
    assert summary["status"] == "interrupted"


def test_a_signal_after_the_run_is_done_changes_nothing(tmp_path: Path) -> None:
    """SIGTERM as soon as the run's summary is out: the work is done, so the run exits 0 —
    not 143 for a run that finished (a scheduler would take it for an interrupted one), nor
    killed by the signal once Python's exit has put the default handlers back."""
    lake = tmp_path / "lake"
    generate(lake / "landing", streams=2_000, songs=300, users=200, days=2, seed=5)
    args = [sys.executable, "-m", "musicstream", "run", "--lake", str(lake), "--log-format", "json"]
    proc = subprocess.Popen(args, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    summary = json.loads(proc.stdout.readline())  # printed after the run's last step
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert summary["status"] == "ok"
    assert proc.returncode == 0, err
    assert "stopped by" not in err
