"""``python -m bench``: measure every case at one scale, the scaling points, and report.

Then the freshness case (``bench.freshness``: micro-batches landed under ``musicstream watch``
on a copy of the DuckDB lake), unless ``--no-freshness``.

Ends by printing, as its last lines, ratio_to_floor, vs_pyspark_peer, vs_pandas_peer,
incremental_share and peak_rss_gb (``n/a`` for a number whose cases failed or were skipped).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import cases, chart, freshness, freshness_report, machine, metrics, report
from bench.scale import Scale, parse_scale

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--scale",
        default=os.environ.get("SCALE") or "10M",
        help="streams of the main run: 1M, 10M, 30M, 100M … (env SCALE)",
    )
    p.add_argument(
        "--scaling",
        default=os.environ.get("SCALING") or "1M,10M,30M",
        help="comma-separated sizes for the scaling runs ('' for none)",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--out", type=Path, default=REPO / "bench" / "out", help="lakes, stores and logs"
    )
    p.add_argument(
        "--data", type=Path, default=REPO / "bench" / "data", help="generated data (reused)"
    )
    p.add_argument("--report", type=Path, default=REPO / "BENCHMARKS.md")
    p.add_argument("--chart", type=Path, default=REPO / "bench" / "benchmarks.png")
    p.add_argument(
        "--no-spark", action="store_true", help="skip the Spark engine and the PySpark peer"
    )
    p.add_argument("--no-peers", action="store_true", help="skip the peer baselines")
    p.add_argument(
        "--no-freshness", action="store_true", help="skip the freshness case under watch"
    )
    p.add_argument("--timeout", type=float, default=7200.0, help="seconds per measured command")
    p.add_argument(
        "--settle",
        type=float,
        default=180.0,
        help="seconds to wait at most for the load average to fall to idle before measuring",
    )
    return p.parse_args(argv)


def say(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    load_start = _settle(say, args.settle)
    facts = machine.facts()
    main_scale = parse_scale(args.scale)
    opts = cases.Options(
        increment=main_scale.increment,
        out=args.out,
        data=args.data,
        threads=args.threads,
        spark=not args.no_spark,
        peers=not args.no_peers,
        timeout_s=args.timeout,
    )
    sizes = sorted(
        {parse_scale(s) for s in args.scaling.split(",") if s.strip()} - {main_scale},
        key=lambda s: s.streams,
    )
    main_run = cases.run_scale(main_scale, opts, full=True, say=say)
    fresh = None if args.no_freshness else _freshness(main_run, opts)
    runs = sorted([main_run, *(_point(s, opts) for s in sizes)], key=lambda r: r.scale.streams)
    load_end = os.getloadavg()[0]
    context: dict[str, object] = {
        "command": _command(argv),
        "threads": args.threads,
        "facts": facts,
        "versions": machine.versions(),
        "load_start": load_start,
        "load_end": load_end,
        # Judged at the start only: the load average at the end is mostly the harness's own.
        "shared": machine.busy(load_start),
        "elapsed_s": time.perf_counter() - started,
        "chart": args.chart,
        "skipped": _skipped(args),
        # None when skipped: the report keeps the section a previous run wrote
        "freshness": freshness_report.section(fresh, _command(argv)) if fresh else None,
    }
    chart.write(args.chart, main_run, runs)
    report.write(args.report, main_run, runs, context)
    say(f"wrote {args.report} and {args.chart}")
    for line in freshness_report.headline(fresh) if fresh else []:
        say(line)
    for line in metrics.summary_lines(main_run):
        say(line)
    return 0


def _settle(say: Callable[[str], None], patience_s: float = 180.0) -> float:
    """The 1-minute load average once it has decayed to idle (it lags work that just ended by
    a minute or more), waiting up to ``patience_s``; the report flags a machine still busy."""
    deadline = time.monotonic() + patience_s
    load = os.getloadavg()[0]
    if machine.busy(load):
        say(f"load average {load:.2f}: waiting up to {patience_s:.0f}s for the machine to idle")
    while machine.busy(load) and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def _skipped(args: argparse.Namespace) -> list[str]:
    """The cases left out on purpose, for the report."""
    out = []
    if args.no_spark:
        out.append("the Spark engine and the PySpark peer (--no-spark)")
    if args.no_peers:
        out.append("the peer baselines (--no-peers)")
    if args.no_freshness:
        out.append("the freshness case under watch (--no-freshness; an earlier section is kept)")
    return out


def _freshness(main_run: cases.ScaleRun, opts: cases.Options) -> freshness.Result:
    """The freshness case on a copy of the DuckDB lake (its history plus the incremental
    batch), or on a lake built for it when that run failed."""
    scale = main_run.scale
    say(f"[{scale.label}] freshness under watch …")
    ours = main_run.ok("duckdb") and main_run.ok("incremental")
    lake = opts.out / scale.label / "duckdb" / "lake" if ours else None
    fresh_opts = freshness.Options(threads=opts.threads)
    result = freshness.on_lake(scale, lake, opts.out, opts.data, fresh_opts)
    say(f"[{scale.label}] freshness: " + ", ".join(freshness_report.headline(result)))
    return result


def _point(scale: Scale, opts: cases.Options) -> cases.ScaleRun:
    return cases.run_scale(scale, opts, full=False, say=say)


def _command(argv: list[str]) -> str:
    """How to rerun this: the make target that called us (``BENCH_COMMAND``), or our argv."""
    direct = "`" + " ".join(["python -m bench", *(shlex.quote(a) for a in argv)]) + "`"
    named = os.environ.get("BENCH_COMMAND")
    return f"`{named}` (runs {direct})" if named else direct


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
