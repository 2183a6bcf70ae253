"""The headline numbers: ratios between cases, the growth exponent and incremental flatness."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.cases import ScaleRun

FLAT = 1.3  # incremental time on the largest history ≤ this x on the smallest: "flat"


@dataclass(frozen=True)
class Target:
    """One issue target: what was measured against what was asked."""

    name: str
    asked: str
    value: float | None  # wall-clock based (or the one number, for RSS and growth)
    met: bool | None
    cpu: float | None = None  # the same ratio in CPU seconds, where it has one


def ratio(run: ScaleRun, num: str, den: str, *, cpu: bool = False) -> float | None:
    """``num``'s time over ``den``'s (wall, or CPU), None unless both succeeded."""
    a, b = run.ok(num), run.ok(den)
    if a is None or b is None:
        return None
    x, y = (a.result.cpu_s, b.result.cpu_s) if cpu else (a.result.wall_s, b.result.wall_s)
    return x / y if y > 0 else None


def headline(run: ScaleRun) -> dict[str, float | None]:
    """The five numbers the harness ends with (wall-clock based)."""
    ours = run.ok("duckdb")
    rss = [c.result.peak_rss_gb for n in ("duckdb", "incremental") if (c := run.ok(n))]
    return {
        "ratio_to_floor": ratio(run, "duckdb", "floor"),
        "vs_pyspark_peer": ratio(run, "glue", "duckdb"),
        "vs_pandas_peer": ratio(run, "pandas", "duckdb"),
        "incremental_share": ratio(run, "incremental", "duckdb"),
        "peak_rss_gb": max(rss) if ours and rss else None,
    }


def growth_exponent(runs: list[ScaleRun], case: str, *, cpu: bool = False) -> float | None:
    """Least-squares slope of log(time) over log(streams): 1.0 is linear."""
    points = []
    for run in runs:
        c = run.ok(case)
        if c is not None:
            t = c.result.cpu_s if cpu else c.result.wall_s
            points.append((math.log(run.scale.streams), math.log(max(t, 1e-6))))
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def incremental_growth(runs: list[ScaleRun]) -> float | None:
    """Incremental time on the largest history over that on the smallest."""
    done = [(r.scale.streams, c.result.wall_s) for r in runs if (c := r.ok("incremental"))]
    if len(done) < 2:
        return None
    done.sort()
    return done[-1][1] / done[0][1]


def targets(run: ScaleRun, runs: list[ScaleRun]) -> list[Target]:
    """The speed issue's targets (and the earlier ones still asked), each with its measured
    value and whether it was met; a target whose cases did not run is not met nor missed."""
    h = headline(run)

    def check(
        name: str, asked: str, value: float | None, ok: bool, cpu: float | None = None
    ) -> Target:
        return Target(name, asked, value, None if value is None else ok, cpu)

    r, py, pd_, inc = (h[k] for k in h if k != "peak_rss_gb")
    r_cpu = ratio(run, "duckdb", "floor", cpu=True)
    pd_cpu = ratio(run, "pandas", "duckdb", cpu=True)
    spark = ratio(run, "spark", "duckdb")
    spark_rss = c.result.peak_rss_gb if (c := run.ok("spark")) else None
    ours_rss = c.result.peak_rss_gb if (c := run.ok("duckdb")) else None
    flat = incremental_growth(runs)
    sizes = [
        r.scale.label for r in sorted(runs, key=lambda r: r.scale.streams) if r.ok("incremental")
    ]
    span = f" ({sizes[0]} → {sizes[-1]})" if len(sizes) > 1 else ""
    return [
        check("DuckDB full run / floor", "≤ 6x (goal ≤ 3x)", r, r is not None and r <= 6, r_cpu),
        check(
            "pandas peer / musicstream",
            "≥ 4x wall, ≥ 2x CPU",
            pd_,
            pd_ is not None and pd_ >= 4 and pd_cpu is not None and pd_cpu >= 2,
            pd_cpu,
        ),
        check(
            "Spark engine / musicstream",
            "≤ 5x",
            spark,
            spark is not None and spark <= 5,
            ratio(run, "spark", "duckdb", cpu=True),
        ),
        check("Spark engine peak RSS (GB)", "≤ 4", spark_rss, (spark_rss or 0) <= 4),
        check("DuckDB run peak RSS (GB)", "≤ 2", ours_rss, (ours_rss or 0) <= 2),
        check(
            "incremental, largest / smallest history" + span,
            f"≤ {FLAT}x",
            flat,
            flat is not None and flat <= FLAT,
        ),
        check(
            "PySpark peer / musicstream",
            "≥ 10x",
            py,
            py is not None and py >= 10,
            ratio(run, "glue", "duckdb", cpu=True),
        ),
        check(
            "incremental / full run",
            "≤ 0.10",
            inc,
            inc is not None and inc <= 0.10,
            ratio(run, "incremental", "duckdb", cpu=True),
        ),
    ]


def summary_lines(run: ScaleRun) -> list[str]:
    """The closing lines of every bench run, in the issue's exact format."""
    h = headline(run)
    digits = {"ratio_to_floor": 2, "incremental_share": 2}
    out = []
    for key, value in h.items():
        text = "n/a" if value is None else f"{value:.{digits.get(key, 1)}f}"
        out.append(f"{key}: {text}")
    return out
