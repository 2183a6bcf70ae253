"""The measured cases of one scale, each a child process of this one, on the same data.

Order: the floor, musicstream on DuckDB (full load into a fresh lake + SQLite store), the
Spark engine and the peers (their KPIs compared with the DuckDB lake's), and last the
one-day incremental batch on top of the DuckDB lake's history.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import compare, data, measure
from bench.scale import Scale

REPO = Path(__file__).resolve().parent.parent
# Both Spark cases: loopback only, this interpreter, local mode (the driver is the executor).
# The peer gets a 4 GiB heap, as a Glue job's driver would; musicstream gets 4 GiB for the
# whole process (`memory_limit`), of which its JVM heap takes 65%: the RSS target's bound.
SPARK_MEMORY = "4GiB"
SPARK_ENV = {
    "SPARK_LOCAL_IP": "127.0.0.1",
    "PYSPARK_PYTHON": sys.executable,
    "SPARK_DRIVER_MEMORY": "4g",
}


@dataclass(frozen=True)
class Options:
    """How to run the suite."""

    out: Path
    data: Path
    increment: int = 100_000  # streams of the one-day batch, the same on every history
    threads: int = 2
    spark: bool = True
    peers: bool = True
    timeout_s: float = 7200.0


@dataclass
class Case:
    """One measured command and what its output was worth."""

    name: str
    label: str
    streams: int
    result: measure.Measurement
    kpis: str = "n/a"  # "reference", "equal", "differs: …", or why it was not compared


@dataclass
class ScaleRun:
    """Every case measured at one scale."""

    scale: Scale
    cases: dict[str, Case] = field(default_factory=dict)

    def ok(self, name: str) -> Case | None:
        """The case ``name`` if it ran and succeeded."""
        case = self.cases.get(name)
        return case if case is not None and case.result.ok else None


def run_scale(scale: Scale, opts: Options, *, full: bool, say: Callable[[str], None]) -> ScaleRun:
    """Measure ``scale``: all cases when ``full``, else floor, DuckDB and incremental only."""
    bench = _Bench(scale, opts, say)
    bench.floor()
    bench.duckdb()
    if full and opts.spark:
        bench.spark()
    if full and opts.peers:
        bench.peer("pandas", "peer: pandas in one process", "bench.peers.pandas_pipeline")
        if opts.spark:
            bench.peer("glue", "peer: PySpark Glue job", "bench.peers.glue_pyspark", SPARK_ENV)
    bench.incremental()
    return bench.run


class _Bench:
    """The cases of one scale, sharing its generated data and the DuckDB lake."""

    def __init__(self, scale: Scale, opts: Options, say: Callable[[str], None]) -> None:
        self.opts, self.say, self.run = opts, say, ScaleRun(scale)
        self.landing = data.landing(scale, opts.data, opts.threads)
        self.batch = data.increment(scale, self.landing, opts.increment, opts.threads)
        self.work = opts.out / scale.label
        self.lake = self.work / "duckdb" / "lake"
        self.threads = str(opts.threads)

    def measure(self, name: str, label: str, cmd: list[str], **kw: Any) -> Case:
        """Run ``cmd`` as case ``name``; ``streams`` (default: the scale's) and ``env``."""
        tag = f"[{self.run.scale.label}] {label}"
        self.say(f"{tag} …")
        folder = self.work / name
        folder.mkdir(parents=True, exist_ok=True)
        path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
        env = {
            "PYTHONPATH": path,
            "MUSICSTREAM_PROGRESS": "false",
            "MUSICSTREAM_SETTLE_S": "0",
            **kw.get("env", {}),
        }
        result = measure.run(
            cmd, folder / "run.log", cwd=folder, env=env, timeout_s=self.opts.timeout_s
        )  # cwd: the case's folder, so no stray musicstream.toml is picked up
        case = Case(name, label, kw.get("streams", self.run.scale.streams), result)
        self.run.cases[name] = case
        self.say(f"{tag}: {_brief(result)}")
        return case

    def floor(self) -> None:
        files = [str(p) for p in data.stream_files(self.landing)]
        self.measure(
            "floor", "floor: DuckDB typed CSV scan", [*_py("bench.floor"), self.threads, *files]
        )

    def duckdb(self) -> None:
        data.fresh_lake(self.lake, self.landing)
        ours = self.measure(
            "duckdb", "musicstream run (DuckDB)", _musicstream(self.lake, self.threads)
        )
        ours.kpis = "reference"

    def spark(self) -> None:
        lake = data.fresh_lake(self.work / "spark" / "lake", self.landing)
        env = {
            **SPARK_ENV,
            "MUSICSTREAM_SPARK_MASTER": f"local[{self.threads}]",
            "MUSICSTREAM_MEMORY_LIMIT": SPARK_MEMORY,
        }
        cmd = [*_musicstream(lake, self.threads), "--engine", "spark"]
        case = self.measure("spark", "musicstream run --engine spark", cmd, env=env)
        _verdict(case, self.run.cases["duckdb"], lambda: compare.compare_lake(self.lake, lake))

    def peer(self, name: str, label: str, module: str, env: dict[str, str] | None = None) -> None:
        store = self.work / name / "kpis.sqlite"
        cmd = [*_py(module), str(self.landing), str(store), self.threads]
        case = self.measure(name, label, cmd, env=env or {})
        _verdict(case, self.run.cases["duckdb"], lambda: compare.compare_sqlite(self.lake, store))

    def incremental(self) -> None:
        """The one-day batch, landed on the DuckDB lake after everything else compared it."""
        data.land(self.lake, self.batch)
        label = f"incremental: {self.opts.increment:,} streams, one day"
        cmd = _musicstream(self.lake, self.threads)
        case = self.measure("incremental", label, cmd, streams=self.opts.increment)
        case.kpis = "n/a (a new day)"


def _verdict(case: Case, ours: Case, diffs: Callable[[], list[compare.TableDiff]]) -> None:
    """Compare ``case``'s KPIs with musicstream's when both runs succeeded."""
    if not case.result.ok:
        case.kpis = "n/a (failed)"
    elif not ours.result.ok:
        case.kpis = "n/a (no reference: the DuckDB run failed)"
    else:
        case.kpis = compare.verdict(diffs())


def _py(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def _musicstream(lake: Path, threads: str) -> list[str]:
    return [*_py("musicstream"), "run", "--lake", str(lake), "--threads", threads]


def _brief(result: measure.Measurement) -> str:
    if not result.ok:
        return f"FAILED ({result.error})"
    return (
        f"{result.wall_s:.1f}s wall, {result.cpu_s:.1f}s CPU, {result.peak_rss_gb:.2f} GB peak RSS"
    )
