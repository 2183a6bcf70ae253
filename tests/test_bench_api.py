"""The read-API load harness (bench/api.py, `make bench-api`) end to end on a tiny lake, and
its parsing and report splicing. Speed is not asserted here: the targets live in
BENCHMARKS.md; what is asserted is that the harness measures, parses and reports, and that
no answer during the concurrent run was torn."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from bench import api_load, api_report, api_verify

REPO = Path(__file__).resolve().parent.parent
KEEP = "# Benchmarks\n\nThe rest of the file, written by `make bench`.\n"


@pytest.fixture(scope="module")
def wrk() -> None:
    reason = api_load.ensure_wrk()
    if reason:
        pytest.skip(reason)


@pytest.mark.slow
def test_harness_on_a_tiny_lake(tmp_path: Path, wrk: None) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text(KEEP)
    cmd = [sys.executable, "-m", "bench.api", "--scale", "20k", "--duration", "1"]
    cmd += ["--workers", "1", "--paths", "200", "--warmup", "1", "--settle", "0"]
    cmd += ["--no-alone", "--rate", "0", "--connections", "2,1"]  # one window: < 20 s
    cmd += ["--out", str(tmp_path / "out"), "--data", str(tmp_path / "data")]
    cmd += ["--report", str(report)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    pattern = r"api_1_workers: \d+ req/s, p95 lookups [\d.]+ ms, p95 ranges [\d.]+ ms, "
    assert re.fullmatch(pattern + r"errors \d+, torn 0", last), last
    text = report.read_text()
    assert text.startswith(KEEP) and text.count(api_report.START) == 1
    rows = {(m[0], m[1]): m[2:] for m in _rows(text)}
    for cls in ("key lookups", "30-day ranges"):
        requests, _rps, p50, p95, p99, _, _, torn = rows[("during run", cls)]
        assert int(requests.replace(",", "")) > 0 and float(p50) <= float(p95) <= float(p99)
        assert torn == "0"
    assert "| 1 worker | during run | " in text and "### Targets (during the run)" in text


def _rows(text: str) -> list[list[str]]:
    """The cells after the server column of the throughput table's class rows."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 12 and cells[0] == "1 worker" and cells[2] != "**all**":
            out.append([cells[1], cells[2], *cells[4:]])
    return out


def test_parse_sums_the_threads(tmp_path: Path) -> None:
    tsv = tmp_path / "wrk.tsv"
    lines = [
        "stat\trequests\t10",
        "stat\tduration_us\t2000000",
        "stat\tsocket_timeout\t1",
        "latency_us\t50\t1500",
        "latency_us\t99.9\t9000",
        "stat\tnon200\t1",
        "stat\tnon200\t2",
        "status\t503\t3",
        "seen\t/v1/songs/a\t123\t4",
        "seen\t/v1/songs/a\t123\t1",
        "seen\t/v1/songs/a\t999\t1",
    ]
    tsv.write_text("\n".join(lines) + "\n")
    load = api_load.parse(tsv, "lookups", 4, 0.5)
    assert load.rps == 5.0 and load.errors == 4 and load.ms("50") == 1.5
    assert load.latency_us["99.9"] == 9000 and load.statuses["503"] == 3
    api_verify.count_torn(load, {"/v1/songs/a": "123"}, {"/v1/songs/a": "5"})
    assert load.torn == 1 and load.torn_samples == ["/v1/songs/a"]


def test_range_fingerprints_are_per_date() -> None:
    body = b'{"table":"t","rows":[{"report_date":"2026-01-01","n":1},{"report_date":"2026-01-02"}]}'
    prints = api_verify.fingerprints("/v1/kpis/t?from=a&to=b", body)
    assert sorted(prints) == [
        "/v1/kpis/t?from=a&to=b|2026-01-01",
        "/v1/kpis/t?from=a&to=b|2026-01-02",
    ]
    assert list(api_verify.fingerprints("/v1/songs/x", b"{}")) == ["/v1/songs/x"]


def test_splice_replaces_only_its_section(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(KEEP)
    api_report.splice(path, "## Read API under load\n\nfirst\n")
    api_report.splice(path, "## Read API under load\n\nsecond\n")
    text = path.read_text()
    assert text.startswith(KEEP) and "second" in text and "first" not in text
    assert text.count(api_report.START) == 1 and text.rstrip().endswith(api_report.END)
