"""``python -m bench.store_load --lake PATH``: the ways of loading KPIs into the SQLite store,
side by side (issue 18).

Every candidate loads every date of the lake (its ``kpis/`` folder) into a fresh store, then
reloads one date into a copy of that full store (the incremental batch case). Each run is a
fresh child process, candidates alternate within each round; for each: wall and CPU seconds
of the load alone (process start and imports apart), rows/s, the store's size, and whether
its tables hold exactly the rows of ``current`` (count and an order-independent checksum).

Candidates: ``current`` is the store as the code has it now; ``today`` a frozen copy of the
store before issue 18 (WITHOUT ROWID tables, rows in lake order, one transaction a date).
The others change one thing of ``today``: see CANDIDATES. ``apsw*`` run under the Python
of ``--apsw-python`` (a scratch venv with apsw, this repo on PYTHONPATH), when it exists.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from musicstream.datasets import KPI_TABLES, PERIOD_TABLES

REPO = Path(__file__).resolve().parent.parent
# name → (what changes against ``today``, options of BenchStore)
CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "today": ("before issue 18", {}),
    "current": ("the store as the code has it now", {"real": True}),
    "sorted": ("rows sorted by primary key (Table.sort_by)", {"sort": True}),
    "multirow": ("200 rows to an INSERT, lake order", {"multi": True}),
    "sync_off": ("synchronous=off, temp_store=memory", {"sync_off": True}),
    "one_tx": ("one transaction for the whole load", {"one_tx": True}),
    "rowid": ("rowid tables + unique key index", {"rowid": True}),
    "rowid_sorted": ("rowid + sorted", {"rowid": True, "sort": True}),
    "rowid_late_index": (
        "rowid, key index built after a first load",
        {"rowid": True, "late": True},
    ),
    "apsw": ("today's statements through apsw", {"apsw": True}),
    "apsw_rowid": ("rowid tables through apsw", {"apsw": True, "rowid": True}),
    # Diagnostics, not candidates: the cost of the parts.
    "no_insert": ("read + Arrow→Python tuples, nothing inserted", {"dry": True}),
    "no_key": ("rowid tables, no key index: binding + append", {"rowid": True, "no_key": True}),
}
CHECK_TABLES = (*KPI_TABLES, *PERIOD_TABLES, "loaded_dates")


def lake_dates(lake: Path) -> list[date]:
    folder = lake / "kpis" / "track_daily"
    return sorted(date.fromisoformat(p.name.split("=")[1]) for p in folder.iterdir())


# -- the child: one load, measured --------------------------------------------------------


def child(name: str, lake: str, db: str, dates: list[date]) -> dict[str, Any]:
    """Load ``dates`` of ``lake`` into ``db`` the way ``name`` does; what it cost."""
    w0, c0 = time.perf_counter(), time.process_time()
    from musicstream.lake import open_lake
    from musicstream.load import load_dates
    from musicstream.settings import load_settings

    settings = load_settings(lake=lake, store="sqlite", store_path=db, progress=False)
    store = make_store(CANDIDATES[name][1], settings)
    lake_ = open_lake(lake)
    w1, c1 = time.perf_counter(), time.process_time()
    rows = load_dates(lake_, store, dates)
    finish = getattr(store, "finish", None)
    if finish is not None:
        finish()
    store.close()
    w2, c2 = time.perf_counter(), time.process_time()
    return {
        "rows": rows,
        "wall": w2 - w1,
        "cpu": c2 - c1,
        "import_wall": w1 - w0,
        "import_cpu": c1 - c0,
        "compute": "pyarrow.compute" in sys.modules,
        "duckdb": "duckdb" in sys.modules,
    }


def make_store(options: dict[str, Any], settings: Any) -> Any:
    from musicstream.stores.sqlite import SQLiteStore

    if options.get("real"):
        return SQLiteStore(settings)
    from bench.store_variants import BenchStore

    return BenchStore(settings, **options)


# -- the parent: rounds of children, then the table ---------------------------------------


def run_child(python: str, name: str, lake: Path, db: Path, dates: list[date]) -> dict[str, Any]:
    cmd = [python, "-m", "bench.store_load", "--child", name, "--lake", str(lake), "--db", str(db)]
    cmd += ["--dates", ",".join(d.isoformat() for d in dates)]
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{name}: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    result["process_cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["size"] = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return result


def checksums(db: Path) -> dict[str, tuple[int, int]]:
    """Per table: rows, and the sum of the rows' hashes (any order gives the same)."""
    import sqlite3

    con = sqlite3.connect(db)
    sums = {}
    for table in CHECK_TABLES:
        count, total = 0, 0
        for row in con.execute(f"select * from {table}"):
            count, total = count + 1, (total + hash(row)) % (1 << 64)
        sums[table] = (count, total)
    con.close()
    return sums


def fresh(db: Path) -> None:
    for p in db.parent.glob(db.name + "*"):
        p.unlink()


def measure(args: argparse.Namespace) -> None:
    lake, out = Path(args.lake).resolve(), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dates = lake_dates(lake)
    day = dates[len(dates) // 2] if args.day is None else date.fromisoformat(args.day)
    names = [n for n in (args.only or CANDIDATES) if n in CANDIDATES]
    if not Path(args.apsw_python).exists():
        names = [n for n in names if not CANDIDATES[n][1].get("apsw")]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    sums: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
    for rnd in range(args.rounds):
        order = names[rnd % len(names) :] + names[: rnd % len(names)]  # rotate: no fixed slot
        for name in order:
            python = args.apsw_python if CANDIDATES[name][1].get("apsw") else sys.executable
            full, one = out / f"{name}.sqlite", out / f"{name}-day.sqlite"
            fresh(full)
            results.setdefault((name, "all"), []).append(run_child(python, name, lake, full, dates))
            fresh(one)
            for p in full.parent.glob(full.name + "*"):
                shutil.copy(p, out / p.name.replace(full.name, one.name))
            results.setdefault((name, "day"), []).append(run_child(python, name, lake, one, [day]))
            if rnd == 0:
                sums[(name, "all")], sums[(name, "day")] = checksums(full), checksums(one)
            print(f"round {rnd + 1} {name}: " + summary(results, name), flush=True)
    report(names, results, sums, len(dates), day)


def summary(results: Mapping[tuple[str, str], list[dict[str, Any]]], name: str) -> str:
    a, d = results[(name, "all")][-1], results[(name, "day")][-1]
    return (
        f"all {a['wall']:.2f}s wall {a['cpu']:.2f}s cpu; "
        f"day {d['wall']:.2f}s wall {d['cpu']:.2f}s cpu"
    )


def report(
    names: list[str],
    results: Mapping[tuple[str, str], list[dict[str, Any]]],
    sums: Mapping[tuple[str, str], dict[str, tuple[int, int]]],
    n_dates: int,
    day: date,
) -> None:
    """Per candidate and case: the best (least CPU) of the rounds, and the spread."""
    print(f"\nload only (imports apart), best of rounds by CPU; all = {n_dates} dates, day = {day}")
    head = f"{'candidate':18} {'case':4} {'wall s':>7} {'cpu s':>7} {'cpu range':>12}"
    print(head + f" {'rows/s':>9} {'MB':>6} {'import cpu':>10}  same rows")
    for name in names:
        for case in ("all", "day"):
            runs = results[(name, case)]
            best = min(runs, key=lambda r: r["cpu"])
            spread = f"{min(r['cpu'] for r in runs):.2f}-{max(r['cpu'] for r in runs):.2f}"
            ref = sums.get(("current", case)) or sums.get(("today", case))
            same = "yes" if sums[(name, case)] == ref else "NO"
            print(
                f"{name:18} {case:4} {best['wall']:7.2f} {best['cpu']:7.2f} {spread:>12} "
                f"{best['rows'] / best['wall']:9,.0f} {best['size'] / 1e6:6.0f} "
                f"{best['import_cpu']:10.2f}  {same}"
            )
    for name in names:
        print(f"  {name}: {CANDIDATES[name][0]}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.store_load", description=__doc__)
    p.add_argument("--lake", required=True, help="a lake folder with kpis/ (read only)")
    p.add_argument("--out", default="/tmp/store_load", help="scratch folder for the stores")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--only", nargs="*", help=f"candidates, of {', '.join(CANDIDATES)}")
    p.add_argument("--day", help="the date reloaded in the one-day case (default: the middle)")
    p.add_argument("--apsw-python", default="/tmp/apswvenv/bin/python")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--dates", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        dates = [date.fromisoformat(d) for d in args.dates.split(",")]
        print(json.dumps(child(args.child, args.lake, args.db, dates)))
    else:
        measure(args)


if __name__ == "__main__":
    main()
