"""The benchmark harness (bench/) end to end on a tiny scale, so `make bench` keeps working.

Spark cases are skipped (a JVM start would double the time); the pandas peer runs and must
compute exactly musicstream's KPIs (the `bench` extra, installed by `make test`, brings pandas).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAST_LINES = (
    r"ratio_to_floor: \d+\.\d\d",
    r"vs_pyspark_peer: n/a",
    r"vs_pandas_peer: \d+\.\d",
    r"incremental_share: \d+\.\d\d",
    r"peak_rss_gb: \d+\.\d",
)


@pytest.mark.slow
def test_bench_harness_on_a_tiny_scale(tmp_path: Path) -> None:
    report, chart = tmp_path / "BENCHMARKS.md", tmp_path / "chart.png"
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--scale",
        "20k",
        "--scaling",
        "10k",
        "--no-spark",
        "--no-freshness",  # its own test: tests/test_bench_freshness.py
        "--settle",
        "0",
        "--out",
        str(tmp_path / "out"),
        "--data",
        str(tmp_path / "data"),
        "--report",
        str(report),
        "--chart",
        str(chart),
    ]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-len(LAST_LINES) :]
    for pattern, line in zip(LAST_LINES, last, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)
    text = report.read_text()
    assert "| peer: pandas in one process |" in text
    pandas_row = next(ln for ln in text.splitlines() if ln.startswith("| peer: pandas"))
    assert pandas_row.endswith("| equal |"), pandas_row
    assert "## Scaling" in text and "Growth exponent" in text
    assert "## Machine" in text and "cores (nproc)" in text
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_bench_reports_a_failing_case(tmp_path: Path) -> None:
    """A case that fails is measured and reported with its reason, not raised."""
    code = (
        "from pathlib import Path; from bench import measure; "
        "m = measure.run(['python3', '-c', 'import sys; print(\"boom\"); sys.exit(3)'], "
        f"Path({str(tmp_path / 'log.txt')!r})); "
        "print(m.returncode, m.error)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3 exit 3: ") and done.stdout.strip().endswith("| boom")


def test_compare_covers_every_kpi_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lake side reads dates as ISO text (report_date; active_listeners' two hive keys and
    period_end), a table the lake lacks as empty, and a peer store is compared on all tables."""
    monkeypatch.syspath_prepend(str(REPO))
    from bench import compare
    from bench.peers.store import open_store, put_rows

    from musicstream.datasets import KPI_COLUMNS, KPIS

    lake, store = tmp_path / "lake", tmp_path / "peer.sqlite"
    week = ("week", "2025-12-29", "2026-01-04", 5, 4, 10, 13300)  # store order: keys first
    day = ("2026-01-01", "u1", 3, 3, 6000, "jazz")
    for folder, table, row in [
        ("active_listeners/period=week/period_start=2025-12-29", "active_listeners", week[2:]),
        ("user_daily/report_date=2026-01-01", "user_daily", day[1:]),
    ]:
        (lake / "kpis" / folder).mkdir(parents=True)
        (lake / "kpis" / folder / "data.parquet").write_bytes(KPIS[table].parquet([row]))
    rows = compare.lake_table(lake, "active_listeners").to_pylist()
    assert rows == [dict(zip(KPI_COLUMNS["active_listeners"], week, strict=True))]
    empty = compare.lake_table(lake, "hourly_activity")
    assert empty.num_rows == 0 and empty.column_names == list(KPI_COLUMNS["hourly_activity"])

    def peer(*puts: tuple[str, tuple[object, ...]]) -> str:
        con = open_store(store)
        for table, row in puts:
            put_rows(con, table, [row])
        con.close()
        diffs = compare.compare_sqlite(lake, store)
        assert [d.table for d in diffs] == list(KPI_COLUMNS)
        return compare.verdict(diffs)

    assert peer(("active_listeners", week), ("user_daily", day)) == "equal"
    fewer_new = (*week[:4], 3, *week[5:])
    assert peer(("active_listeners", fewer_new)) == (
        "differs: user_daily 1/1 rows, active_listeners 1/1 rows"
    )


def test_a_process_sharing_its_parents_memory_is_not_counted_twice() -> None:
    """The tree's peak counts each address space once: a process shares its own (the case
    of a vfork()ed child before exec, which shows its parent's whole resident set), a
    fork()ed child has one of its own and counts."""
    code = (
        "import os, time; from bench import measure; "
        "child = os.fork(); "
        "time.sleep(2) if child == 0 else None; "
        "os._exit(0) if child == 0 else None; "
        "print(measure.shares_memory(os.getpid(), os.getpid()), "
        "measure.shares_memory(os.getpid(), child)); "
        "os.waitpid(child, 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
