"""``python -m bench.freshness``: how fresh the store is under ``musicstream watch`` (issue 16).

On a working copy of a loaded lake (the scale's history, as ``make bench`` loads it), one
``musicstream watch --log-format json`` process, then:

1. **steady**: a micro-batch of ``--streams`` streams (the lake's latest two days, real users
   and tracks) lands every ``--interval`` s for ``--duration`` s, each written to a hidden
   ``.tmp`` name and renamed into ``landing/streams/`` as an uploader does. Landed → visible is
   measured twice: the watcher's own ``freshness_s`` per batch, and independently by polling
   the ledger (taken) and the SQLite store's ``loads`` table (visible), read-only.
2. **throughput**: bursts of 4, 16, 64 … micro-batches landed at one instant, each once the
   last is visible. A batch takes every settled file, so at an arriving rate r the watcher
   keeps up (its backlog stops growing) once batches are big enough that n streams take at
   most n / r seconds: the best n / duration over the bursts is the rate it sustains.

Writes the section "Freshness under watch" of the report (the rest is left as it is) and ends
by printing ``freshness_p95_s`` and ``sustained_streams_per_s``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import freshness_lake, freshness_report, machine
from bench.freshness_lake import Landed, Observer, Uploader
from bench.freshness_watch import Watcher
from bench.scale import Scale, parse_count, parse_scale

REPO = Path(__file__).resolve().parent.parent
POLL_S = 0.025  # the store and the ledger are polled this often (a few µs of SQLite each)


@dataclass(frozen=True)
class Options:
    """What to land and for how long; the defaults take about three minutes at 10M."""

    duration_s: float = 60.0
    interval_s: float = 3.0
    settle_s: float = 1.0
    streams: int = 10_000  # per micro-batch
    threads: int = 2
    bursts: tuple[int, ...] = (4, 16, 64, 256)  # micro-batches landed at once
    budget_s: float = 60.0  # the throughput phase stops before a burst would overrun this
    wait_s: float = 120.0  # at most, for the files of a phase to be visible


@dataclass
class Burst:
    """Micro-batches landed at one instant, and the watcher batches that took them."""

    files: list[Landed]
    batches: list[dict[str, Any]]

    @property
    def streams(self) -> int:
        return sum(f.streams for f in self.files)

    @property
    def batch_s(self) -> float:
        return sum(b.get("duration_s") or 0.0 for b in self.batches)

    @property
    def rate(self) -> float | None:
        done = all(f.visible for f in self.files) and self.batch_s > 0
        return self.streams / self.batch_s if done else None


@dataclass
class Result:
    """Everything the report shows about one freshness case."""

    scale: Scale
    options: Options
    latest: str = ""
    warmup: list[Landed] = field(default_factory=list)
    steady: list[Landed] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)  # the watcher's, steady phase
    steady_wall_s: float = 0.0
    steady_cpu_s: float = 0.0
    batch_cpu_s: list[float] = field(default_factory=list)  # the watcher's, load to load
    bursts: list[Burst] = field(default_factory=list)
    stopped: str = ""  # why the bursts stopped
    peak_rss_gb: float = 0.0
    total_s: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start, at the end
    log: Path | None = None
    error: str | None = None

    @property
    def sustained(self) -> Burst | None:
        """The burst processed fastest (streams per second of batch time)."""
        done = [b for b in self.bursts if b.rate]
        return max(done, key=lambda b: b.rate or 0.0) if done else None


class _Case:
    """One run of the case: the lake, the uploader, the watcher and the observer."""

    def __init__(self, lake: Path, opts: Options, result: Result) -> None:
        self.opts, self.result = opts, result
        latest = freshness_lake.latest_date(lake)
        result.latest = latest.isoformat()
        self.uploader = Uploader(lake, latest)
        self.observer = Observer(lake)
        self.watcher = Watcher(lake, opts, lake.parent / "watch.log")
        self.cpu_at: dict[str, float] = {}  # the watcher's CPU seconds when a load appeared
        result.log = lake.parent / "watch.log"

    def tick_until(self, deadline: float) -> None:
        """Poll the ledger, the store and the watcher until ``deadline``."""
        while True:
            now = time.time()
            for batch_id in self.observer.poll(now):
                self.cpu_at[batch_id] = self.watcher.cpu_s()
            self.watcher.sample()
            if now >= deadline:
                return
            time.sleep(min(POLL_S, max(0.0, deadline - now)))

    def land(self, temps: list[Path]) -> list[Landed]:
        landed = self.uploader.land(temps, self.opts.streams)
        self.observer.track(landed)
        return landed

    def wait_visible(self, files: list[Landed]) -> None:
        deadline = time.time() + self.opts.wait_s + self.opts.settle_s
        while self.observer.pending(files) and time.time() < deadline:
            self.tick_until(time.time() + POLL_S)

    def warm_up(self) -> None:
        """One micro-batch first: the watcher's first batch pays its imports and first
        connections, which a process that stays up pays once."""
        self.result.warmup = self.land([self.uploader.write(self.opts.streams)])
        self.wait_visible(self.result.warmup)

    def steady(self) -> None:
        opts, r = self.opts, self.result
        count = max(1, int(opts.duration_s / opts.interval_s + 0.5))
        temps = [self.uploader.write(opts.streams) for _ in range(count)]  # written up front
        cpu, start = self.watcher.cpu_s(), time.time()
        for i, temp in enumerate(temps):
            self.tick_until(start + i * opts.interval_s)
            r.steady += self.land([temp])
        self.wait_visible(r.steady)
        r.steady_wall_s, r.steady_cpu_s = time.time() - start, self.watcher.cpu_s() - cpu
        r.batches = self.lines_of(r.steady)
        ids = {f.batch_id for f in r.steady}
        marks = [self.cpu_at.get(r.warmup[0].batch_id or "", cpu)]  # the batch before
        marks += [c for i, c in self.cpu_at.items() if i in ids]  # in the order they loaded
        r.batch_cpu_s = [b - a for a, b in itertools.pairwise(marks)]

    def throughput(self) -> None:
        """Bursts while bigger batches still process faster (by 10%) and the next one, on the
        line through the last two batch sizes and times, fits in the budget (the first always
        runs)."""
        deadline = time.time() + self.opts.budget_s
        steady = sorted(b["duration_s"] for b in self.result.batches if b.get("duration_s"))
        points = [(self.opts.streams, steady[len(steady) // 2])] if steady else []
        last: Burst | None = None
        for count in self.opts.bursts:
            guess = _guess(points, count * self.opts.streams) if last else 0.0
            if time.time() + guess > deadline:
                self.result.stopped = f"the budget ({self.opts.budget_s:g} s) left no time"
                return
            burst = self.burst(count)
            self.result.bursts.append(burst)
            if burst.rate is None:
                self.result.stopped = "a burst was not visible in time"
                return
            if last and last.rate and burst.rate < 1.1 * last.rate:
                self.result.stopped = "bigger batches no longer helped"
                return
            points.append((burst.streams, burst.batch_s))
            last = burst
        self.result.stopped = "every burst size ran" if last else "none was asked for"

    def burst(self, count: int) -> Burst:
        temps = [self.uploader.write(self.opts.streams) for _ in range(count)]
        files = self.land(temps)
        self.wait_visible(files)
        return Burst(files, self.lines_of(files))

    def lines_of(self, files: list[Landed]) -> list[dict[str, Any]]:
        """The watcher's JSON lines of the batches that took ``files`` (a line follows its
        batch's archive step, so it may come a little after the load is visible)."""
        ids = {f.batch_id for f in files if f.batch_id}
        deadline = time.time() + self.opts.wait_s
        while True:
            lines = [b for b in self.watcher.lines if ids & set(b.get("batch_ids") or [])]
            got = {i for b in lines for i in b["batch_ids"]}
            if ids <= got or time.time() > deadline:
                return lines
            self.tick_until(time.time() + POLL_S)


def _guess(points: list[tuple[int, float]], streams: int) -> float:
    """Seconds a batch of ``streams`` would take, on the line through the last two (streams,
    seconds) points (in proportion to the one point when there is one)."""
    n1, t1 = points[-1]
    n0, t0 = points[-2] if len(points) > 1 else (0, 0.0)
    return t1 + max(0.0, (t1 - t0) / (n1 - n0)) * (streams - n1)


def run(scale: Scale, base: Path, work: Path, opts: Options) -> Result:
    """The case on a working copy of ``base`` (a loaded lake) under ``work``."""
    started = time.perf_counter()
    result = Result(scale, opts)
    load_start = os.getloadavg()[0]
    lake = freshness_lake.working_copy(base, work / "lake")
    case: _Case | None = None
    try:
        case = _Case(lake, opts, result)
        case.warm_up()
        case.steady()
        case.throughput()
    except Exception as exc:  # reported, like a failing case of the harness
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if case is not None:
            case.watcher.stop()
            case.observer.close()
            result.peak_rss_gb = case.watcher.peak_rss / 1e9
    result.total_s = time.perf_counter() - started
    result.load = (load_start, os.getloadavg()[0])
    return result


def on_lake(scale: Scale, base: Path | None, out: Path, data_root: Path, opts: Options) -> Result:
    """The case on a copy of ``base``, or of the scale's own loaded lake (built once under
    ``out``) when None; its lake and log under ``out/<scale>/freshness``."""
    try:
        base = base or freshness_lake.base_lake(scale, out, data_root, opts.threads)
    except Exception as exc:  # reported in the section, like a failing case
        return Result(scale, opts, error=f"{type(exc).__name__}: {exc}")
    return run(scale, base, out.resolve() / scale.label / "freshness", opts)


def _wait_idle(patience_s: float) -> None:
    """Wait up to ``patience_s`` for the 1-minute load average to fall to idle (the report
    shows the load the case ran under either way)."""
    deadline = time.monotonic() + patience_s
    while machine.busy(os.getloadavg()[0]) and time.monotonic() < deadline:
        time.sleep(5)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.freshness", description=__doc__)
    p.add_argument("--scale", default=os.environ.get("SCALE") or "10M", help="history: 1M, 10M …")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of steady landing")
    p.add_argument("--interval", type=float, default=3.0, help="seconds between micro-batches")
    p.add_argument("--settle", type=float, default=1.0, help="the watcher's settle_s")
    p.add_argument("--streams", default="10k", help="streams per micro-batch")
    p.add_argument("--bursts", default="4,16,64,256", help="micro-batches per burst ('' none)")
    p.add_argument("--budget", type=float, default=60.0, help="seconds for the bursts, at most")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--idle", type=float, default=120.0, help="seconds to wait for idle, at most")
    p.add_argument("--base", type=Path, help="a loaded lake to copy (default: built, cached)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="lakes and logs")
    p.add_argument("--data", type=Path, default=REPO / "bench" / "data", help="generated data")
    p.add_argument("--report", type=Path, default=REPO / "BENCHMARKS.md")
    return p.parse_args(argv)


def options(args: argparse.Namespace) -> Options:
    return Options(
        duration_s=args.duration,
        interval_s=args.interval,
        settle_s=args.settle,
        streams=parse_count(args.streams),
        threads=args.threads,
        bursts=tuple(int(b) for b in args.bursts.split(",") if b.strip()),
        budget_s=args.budget,
    )


def _command(args: argparse.Namespace) -> str:
    """How to measure the same again (paths and the idle wait left out: they change nothing)."""
    o = options(args)
    return (
        f"`python -m bench.freshness --scale {args.scale} --duration {o.duration_s:g} "
        f"--interval {o.interval_s:g} --settle {o.settle_s:g} --streams {args.streams} "
        f"--bursts {','.join(map(str, o.bursts))} --budget {o.budget_s:g} --threads {o.threads}`"
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    scale = parse_scale(args.scale)
    _wait_idle(args.idle)
    print(f"[{scale.label}] freshness under watch …", flush=True)
    result = on_lake(scale, args.base, args.out, args.data, options(args))
    freshness_report.splice(args.report, freshness_report.section(result, _command(args)))
    print(f"wrote the section {freshness_report.TITLE!r} of {args.report}", flush=True)
    for line in freshness_report.headline(result):
        print(line, flush=True)
    return 1 if result.error else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
