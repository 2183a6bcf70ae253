"""A full disk or a failing store is one line naming the file or store (exit 1), never a
traceback — and never a landing file quarantined for this machine's fault.

The disk fills up for real: the run's process gets a file-size limit (RLIMIT_FSIZE, with
SIGXFSZ ignored), so its writes past that size fail with EFBIG as they would with ENOSPC.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from conftest import Landing, cli, land_first

LOCK = Path("_state") / "lock.json"


def run_limited(lake: Path, max_file_bytes: int) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "musicstream", "run", "--lake", str(lake)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=limit,
    )


def last_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    return stderr.strip().splitlines()[-1]


def test_a_full_disk_while_planning_fails_the_run_and_quarantines_nothing(
    lake: Path, landing: Landing
) -> None:
    land_first(landing)
    rows = [[f"u{i % 2 + 1}", "t1", "2026-01-02 10:00:00", ""] for i in range(3000)]
    big = landing.streams(rows, name="big.csv")
    assert big.stat().st_size > 40_000
    proc = run_limited(lake, 40_000)
    assert proc.returncode == 1
    line = last_line(proc.stderr)
    assert line.startswith(f"error: cannot write {lake}/_state/staged/") and "too large" in line
    assert big.exists() and not (lake / LOCK).exists()
    assert not list(lake.glob("_state/staged/*.part"))

    again = cli("run", "--lake", str(lake), "--log-format", "json")  # the disk has room again
    assert again.returncode == 0, again.stderr
    assert '"files_quarantined": []' in again.stdout and not big.exists()


def test_a_store_that_cannot_write_is_one_line_naming_it(lake: Path, landing: Landing) -> None:
    land_first(landing)
    proc = run_limited(lake, 20_000)  # the lake's small files fit, the SQLite store does not
    assert proc.returncode == 1
    store = lake / "_state" / "kpis.sqlite"
    assert last_line(proc.stderr).startswith(f"error: SQLite store {store}: OperationalError")
    assert not (lake / LOCK).exists()

    assert cli("run", "--lake", str(lake)).returncode == 0
    shown = cli("kpis", "genre_daily", "--date", "2026-01-03", "--lake", str(lake))
    assert shown.returncode == 0 and "rock" in shown.stdout
