"""``python -m bench.api`` (``make bench-api``): the read API under load while a run loads.

On the scale's lake (built as ``make bench`` builds it, cached under bench/out/<scale>/api/),
for each ``--workers`` setting: a fresh copy of the lake with a restating batch landed,
``musicstream serve`` on it, a warm-up, a window of closed-loop load alone (``--no-alone``
skips it) and one while ``musicstream run`` loads the batch; then, on another fresh copy, a
window of load paced at ``--rate`` requests/s during the run (``--rate 0`` skips it). Each
window runs two wrk processes at once, one per request class (key lookups; 30-day ranges), so
each class has its own latency distribution. Every answer seen is checked against the store's
answers before and after the run (torn reads), and the section "Read API under load" of
BENCHMARKS.md is rewritten.

Ends by printing one line per window during a run: req/s, p95 of each class, errors, torn
reads.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sqlite3
import sys
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from bench import api_lake, api_load, api_mix, api_report, api_verify, machine
from bench.api_load import Load, Phase
from bench.scale import Scale, parse_scale

REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    p.add_argument("--scale", default=os.environ.get("SCALE") or "10M", help="streams: 1M, 10M …")
    p.add_argument("--duration", type=int, default=30, help="seconds of load per window")
    p.add_argument("--workers", default="1,2", help="server processes to try, comma-separated")
    p.add_argument(
        "--connections", default="8,2", help="wrk connections: key lookups,30-day ranges"
    )
    p.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="requests/s offered in the paced window during a second run (0: no such window)",
    )
    p.add_argument("--paced-connections", default="32,8", help="connections of the paced window")
    p.add_argument("--paths", type=int, default=4000, help="lookup paths drawn (ranges: half)")
    p.add_argument("--threads", type=int, default=2, help="threads of the concurrent run")
    p.add_argument("--run-nice", type=int, default=0, help="niceness of the concurrent run")
    p.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    p.add_argument("--no-alone", action="store_true", help="skip the window without the run")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached base lake")
    p.add_argument("--settle", type=float, default=60.0, help="seconds to wait for idle, at most")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="lakes and logs")
    p.add_argument("--data", type=Path, default=REPO / "bench" / "data", help="generated data")
    p.add_argument("--report", type=Path, default=REPO / "BENCHMARKS.md")
    return p.parse_args(argv)


def say(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    args.out, args.data = args.out.resolve(), args.data.resolve()  # children run elsewhere
    started = time.perf_counter()
    reason = api_load.ensure_wrk()
    if reason:
        say(f"cannot load the API: {reason}")
        return 2
    scale = parse_scale(args.scale)
    base = api_lake.base_lake(scale, args.out, args.data, args.threads, say, args.rebuild)
    batch = api_lake.restating_batch(scale, args.data, args.threads)
    folder = args.out / scale.label / "api"
    files = api_mix.write_paths(api_mix.read_keys(base), folder, args.paths)
    _settle(args.settle)
    facts, load_start = machine.facts(), os.getloadavg()[0]
    phases: list[Phase] = []
    for workers in (int(w) for w in args.workers.split(",")):
        phases += _server_setting(workers, args, base, batch, Load(files, {}, 0, folder))
    context = _context(args, scale, argv, facts) | {
        "elapsed_s": time.perf_counter() - started,
        "shared": machine.busy(load_start),
        "load_start": load_start,
    }
    api_report.splice(args.report, api_report.section(phases, context))
    say(f"wrote the section 'Read API under load' of {args.report}")
    for line in api_report.headline(phases):
        say(line)
    return 0


def _server_setting(
    workers: int, args: argparse.Namespace, base: Path, batch: Path, shared: Load
) -> list[Phase]:
    """The windows of one server setting: closed loop (alone, during a run), then paced
    (during another run, on another copy of the lake), torn reads counted."""
    folder = shared.folder / f"w{workers}"
    load = replace(shared, folder=folder, duration_s=args.duration)
    closed = replace(load, connections=_connections(args.connections))
    phases = _windows(workers, args, base, batch, closed, alone=not args.no_alone)
    if args.rate:
        paced = replace(load, connections=_connections(args.paced_connections), rate=args.rate)
        phases += _windows(workers, args, base, batch, paced, alone=False)
    return phases


def _windows(
    workers: int, args: argparse.Namespace, base: Path, batch: Path, load: Load, alone: bool
) -> list[Phase]:
    """On a fresh copy of the lake: warm-up, the answers before, the window alone (if asked),
    the window during the run, the answers after; then the torn reads of each window."""
    lake = api_lake.working_copy(base, load.folder / "lake", batch)
    paths, phases = _all_paths(load.files), []
    say(f"[{workers} worker(s)] serving {lake}{load.paced} …")
    with api_load.serving(lake, workers, load.folder) as server:
        api_load.run_phase(server, replace(load, duration_s=args.warmup, rate=0), "warm-up")
        before = api_verify.answers(server.url, paths)  # the store before the run
        if alone:
            phases.append(api_load.run_phase(server, load, "alone"))
            say(f"[{workers} worker(s)] alone: {phases[-1].rps:,.0f} req/s")
        run = api_lake.run_command(lake, args.threads)
        run = ["nice", "-n", str(args.run_nice), *run] if args.run_nice else run
        lead = min(2.0, args.duration / 10)
        phases.append(api_load.run_phase(server, load, "during run" + load.paced, run, lead))
        say(f"[{workers} worker(s)] {phases[-1].name}: {phases[-1].rps:,.0f} req/s")
        after = api_verify.answers(server.url, paths)
    for phase in phases:
        versions = (before,) if phase.run is None else (before, after)
        for cls in phase.classes.values():
            api_verify.count_torn(cls, *versions)
    return phases


def _connections(text: str) -> dict[str, int]:
    lookups, ranges = (int(n) for n in text.split(","))
    return {"lookups": lookups, "ranges": ranges}


def _all_paths(files: dict[str, Path]) -> set[str]:
    return {line for f in files.values() for line in f.read_text().splitlines() if line}


def _settle(patience_s: float) -> None:
    """Wait (at most ``patience_s``) for the 1-minute load average to fall to idle."""
    deadline = time.monotonic() + patience_s
    while machine.busy(os.getloadavg()[0]) and time.monotonic() < deadline:
        time.sleep(5)


def _context(
    args: argparse.Namespace, scale: Scale, argv: list[str], facts: dict[str, str]
) -> dict[str, object]:
    return {
        "streams": scale.streams,
        "days": scale.days,
        "songs": scale.songs,
        "users": scale.users,
        "batch": scale.increment,
        "threads": args.threads,
        "nice": args.run_nice,
        "wrk": api_load.wrk_version(),
        "conns": _connections(args.connections),
        "paced": _connections(args.paced_connections) if args.rate else None,
        "rate": args.rate,
        "duration": args.duration,
        "warmup": args.warmup,
        "lead": min(2.0, args.duration / 10),
        "command": _command(argv),
        "facts": facts,
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("musicstream", "fastapi", "uvicorn", "uvloop", "httptools"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["SQLite"] = sqlite3.sqlite_version
    out["revision"] = machine._revision()
    return out


def _command(argv: list[str]) -> str:
    """How to rerun this: the make target that called us (``BENCH_COMMAND``), or our argv."""
    direct = "`" + " ".join(["python -m bench.api", *(shlex.quote(a) for a in argv)]) + "`"
    named = os.environ.get("BENCH_COMMAND")
    return f"`{named}` (runs {direct})" if named else direct


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
