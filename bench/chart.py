"""The benchmark chart: cases side by side (wall and CPU), and time over data size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.cases import ScaleRun
from bench.report import CASE_ORDER

SHORT = {
    "floor": "floor (DuckDB scan)",
    "duckdb": "musicstream DuckDB",
    "incremental": "incremental 1 day",
    "spark": "musicstream Spark",
    "pandas": "pandas peer",
    "glue": "PySpark Glue peer",
}


def write(path: Path, main: ScaleRun, runs: list[ScaleRun]) -> None:
    """A two-panel PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    _bars(left, main)
    _scaling(right, runs)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(ax: Any, run: ScaleRun) -> None:
    names = [n for n in CASE_ORDER if run.ok(n)]
    wall = [run.cases[n].result.wall_s for n in names]
    cpu = [run.cases[n].result.cpu_s for n in names]
    ys = range(len(names))
    ax.barh([y - 0.2 for y in ys], wall, height=0.4, label="wall s")
    ax.barh([y + 0.2 for y in ys], cpu, height=0.4, label="CPU s (user+sys)")
    ax.set_yticks(list(ys), [SHORT[n] for n in names])
    ax.invert_yaxis()
    for y, w in zip(ys, wall, strict=True):
        ax.annotate(
            f"{w:.1f}s",
            (w, y - 0.2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_xscale("log")  # the cases span three orders of magnitude
    ax.set_xlabel("seconds (log)")
    ax.set_title(f"{run.scale.label} streams, {run.scale.days} days: side by side")
    ax.legend(loc="best")


def _scaling(ax: Any, runs: list[ScaleRun]) -> None:
    for name in ("floor", "duckdb", "incremental"):
        points = [(r.scale.streams, c.result.wall_s) for r in runs if (c := r.ok(name))]
        if points:
            xs, ys = zip(*sorted(points), strict=True)
            ax.plot(xs, ys, marker="o", label=SHORT[name])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("streams in the history (log)")
    ax.set_ylabel("wall seconds (log)")
    ax.set_title("scaling: full run vs floor; incremental vs history size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
