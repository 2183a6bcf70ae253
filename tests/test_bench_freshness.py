"""The freshness case of the benchmark (bench/freshness.py) on a tiny lake for a few seconds:
what it measures and how its section is written. Speed is not asserted: the targets live in
BENCHMARKS.md."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from bench import data, freshness, freshness_report, report
from bench.cases import ScaleRun
from bench.scale import parse_scale

from musicstream import pipeline
from musicstream.settings import load_settings

pytestmark = pytest.mark.slow  # the freshness benchmark runs for seconds

TINY = freshness.Options(
    duration_s=4, interval_s=2, settle_s=0.2, streams=2_000, bursts=(2,), budget_s=10, wait_s=30
)
KEEP = "# Benchmarks\n\nThe rest of the file, written by `make bench`.\n"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> freshness.Result:
    """Two micro-batches of 2,000 streams landed 2 s apart, then one burst of two, on a lake
    with a history (loaded in this process: a ``musicstream run`` would start one more)."""
    root, scale = tmp_path_factory.mktemp("freshness"), parse_scale("20k")
    base = data.fresh_lake(root / "base", data.landing(scale, root / "data", threads=2))
    pipeline.run(load_settings(lake=str(base), settle_s=0, threads=2, progress=False))
    return freshness.run(scale, base, root / "work", TINY)


def test_every_landed_file_is_seen_taken_then_visible(case: freshness.Result) -> None:
    assert case.error is None, case.error
    assert [len(case.warmup), len(case.steady)] == [1, 2]
    for f in [*case.warmup, *case.steady, *case.bursts[0].files]:
        assert f.taken is not None and f.visible is not None and f.batch_id, f
        assert f.landed + TINY.settle_s <= f.taken <= f.visible, f
    assert case.steady[1].landed - case.steady[0].landed == pytest.approx(2, abs=0.5)
    last_day = dt.date.fromisoformat(case.latest)
    assert {d for b in case.batches for d in b["dates"]} <= {
        str(last_day - dt.timedelta(days=1)),
        str(last_day),
    }


def test_the_watcher_reports_each_batch_with_its_freshness(case: freshness.Result) -> None:
    ids = {f.batch_id for f in case.steady}
    assert {i for b in case.batches for i in b["batch_ids"]} == ids
    for b in case.batches:
        assert b["status"] == "ok" and b["datasets"]["streams"]["quarantined"] == 0
        assert b["freshness_s"] >= TINY.settle_s and b["duration_s"] > 0
    assert sum(b["datasets"]["streams"]["kept"] for b in case.batches) == 4_000
    assert case.steady_wall_s > 2 and case.steady_cpu_s > 0 and case.peak_rss_gb > 0
    assert len(case.batch_cpu_s) == len(case.batches) and min(case.batch_cpu_s) > 0


def test_a_burst_is_taken_at_once_and_gives_a_rate(case: freshness.Result) -> None:
    (burst,) = case.bursts
    assert len(burst.files) == 2 and burst.streams == 4_000
    assert len({f.batch_id for f in burst.files}) == 1 and len(burst.batches) == 1
    assert burst.rate == pytest.approx(4_000 / burst.batches[0]["duration_s"])
    assert case.sustained is burst and case.stopped == "every burst size ran"


def test_the_section_is_spliced_between_its_markers(case: freshness.Result, tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(KEEP)
    text = freshness_report.section(case, "`python -m bench.freshness`")
    for _ in range(2):  # a second run replaces the first one's section
        freshness_report.splice(path, text)
    out = path.read_text()
    assert out.startswith(KEEP) and out.count(freshness_report.START) == 1
    assert "## Freshness under watch" in out and "settle_s = 0.2 s" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("| store poll"))
    assert row.split("|")[2].strip() == "2"  # two files; p50, p95, max follow
    assert "| 2 | 4,000 | 1 |" in out and "### Targets (issue 16)" in out
    assert "It sustains at least **" in out  # one burst size: still rising, a lower bound
    lines = freshness_report.headline(case)
    assert lines[0].startswith("freshness_p95_s: ") and lines[1].startswith("sustained_")


def test_make_bench_writes_the_section_or_keeps_the_last_one(
    case: freshness.Result, tmp_path: Path
) -> None:
    path = tmp_path / "BENCHMARKS.md"
    context: dict[str, object] = {
        "command": "`python -m bench`",
        "threads": 2,
        "facts": {},
        "versions": {},
        "load_start": 0.0,
        "load_end": 0.0,
        "shared": False,
        "elapsed_s": 1.0,
        "chart": tmp_path / "chart.png",
        "skipped": [],
        "freshness": freshness_report.section(case, "`python -m bench`"),
    }
    run = ScaleRun(parse_scale("20k"))
    report.write(path, run, [run], context)
    written, block = path.read_text(), freshness_report.kept_block(path)
    assert written.count(freshness_report.START) == 1 and "## Freshness under watch" in block
    assert written.index("## Freshness under watch") < written.index("## Machine")
    report.write(path, run, [run], context | {"freshness": None})  # --no-freshness
    assert freshness_report.kept_block(path) == block


def test_the_command_line_options() -> None:
    args = freshness.parse_args(["--scale", "1M", "--streams", "20k", "--bursts", "3,9"])
    opts = freshness.options(args)
    assert (opts.streams, opts.bursts, opts.settle_s, opts.interval_s) == (20_000, (3, 9), 1, 3)
    assert freshness.options(freshness.parse_args(["--bursts", ""])).bursts == ()


def test_the_next_burst_is_guessed_on_the_line_through_the_last_two() -> None:
    assert freshness._guess([(10_000, 1.0), (40_000, 2.5)], 160_000) == pytest.approx(8.5)
    assert freshness._guess([(10_000, 2.0)], 40_000) == pytest.approx(8.0)
    assert freshness._guess([(10_000, 3.0), (40_000, 2.0)], 160_000) == pytest.approx(2.0)
