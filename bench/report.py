"""BENCHMARKS.md: the side-by-side table, scaling, targets, freshness under watch, machine,
versions, how to rerun."""

from __future__ import annotations

import os
from pathlib import Path

from bench import freshness_report, metrics, sections
from bench.cases import Case, ScaleRun
from musicstream.datasets import KPI_TABLES, PERIOD_TABLES

CASE_ORDER = ("floor", "duckdb", "incremental", "spark", "pandas", "glue")


def write(path: Path, main: ScaleRun, runs: list[ScaleRun], context: dict[str, object]) -> None:
    """Write the report for ``main`` (all cases) and ``runs`` (the scaling points)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    chart = Path(str(context["chart"]))
    parts = [
        _header(main, context),
        _cases(main),
        f"![benchmark chart]({os.path.relpath(chart, path.parent)})\n",
        _targets(main, runs),
        _scaling(runs),
        _freshness(path, context.get("freshness")),
        sections.API.kept(path),  # `make bench-api`'s section, as it last wrote it
        _failures([main, *runs]),
        _facts(context),
        _notes(main),
        "## Headline (the harness's last lines)\n\n```\n"
        + "\n".join(metrics.summary_lines(main))
        + "\n```\n",
    ]
    path.write_text("\n".join(p for p in parts if p))


def _header(main: ScaleRun, context: dict[str, object]) -> str:
    s = main.scale
    shared = context["shared"]
    warning = (
        "\n> **Shared machine.** Other work was running during this benchmark (load average "
        f"{context['load_start']:.2f} at the start, {context['load_end']:.2f} at the end on "
        f"{os.cpu_count()} cores), so wall times are noisy and inflated; the CPU columns "
        "(user + sys of each child tree) are the steadier comparison.\n"
        if shared
        else ""
    )
    skipped = context.get("skipped") or []
    assert isinstance(skipped, list)
    if skipped:
        warning += "\nNot measured in this run: " + "; ".join(skipped) + ".\n"
    return f"""# Benchmarks

All cases ran as child processes of one harness process, in one run, on the same generated
data: **{s.streams:,} streams** over {s.days} days, {s.songs:,} songs, {s.users:,} users
(`musicstream generate`, clean data), {context["threads"]} threads each.
{warning}
Reproduce: {context["command"]}
"""


def _cases(run: ScaleRun) -> str:
    rows = [
        "| case | wall s | CPU s | streams/s | x floor (wall) | x floor (CPU) | peak RSS GB "
        "| KPIs vs musicstream |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    floor = run.ok("floor")
    for name in CASE_ORDER:
        case = run.cases.get(name)
        if case is not None:
            rows.append(_case_row(case, floor))
    return f"## {run.scale.label} streams, side by side\n\n" + "\n".join(rows) + "\n"


def _case_row(case: Case, floor: Case | None) -> str:
    r = case.result
    if not r.ok:
        return f"| {case.label} | failed | | | | | | see below |"
    wall_x = f"{r.wall_s / floor.result.wall_s:.2f}" if floor else "n/a"
    cpu_x = f"{r.cpu_s / floor.result.cpu_s:.2f}" if floor and floor.result.cpu_s else "n/a"
    return (
        f"| {case.label} | {r.wall_s:.1f} | {r.cpu_s:.1f} | {case.streams / r.wall_s:,.0f} "
        f"| {wall_x} | {cpu_x} | {r.peak_rss_gb:.2f} | {case.kpis} |"
    )


def _targets(main: ScaleRun, runs: list[ScaleRun]) -> str:
    rows = [
        "| target | asked | measured (wall) | measured (CPU) | met |",
        "|---|---|---:|---:|---|",
    ]
    for t in metrics.targets(main, runs):
        met = "n/a" if t.met is None else ("yes" if t.met else "**no**")
        rows.append(f"| {t.name} | {t.asked} | {_num(t.value)} | {_num(t.cpu)} | {met} |")
    return "## Targets\n\n" + "\n".join(rows) + "\n"


def _scaling(runs: list[ScaleRun]) -> str:
    if len(runs) < 2:
        return ""
    rows = [
        "| streams | floor wall s | musicstream wall s | musicstream CPU s | x floor "
        "| incremental wall s | incremental CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        f, d, i = (run.ok(n) for n in ("floor", "duckdb", "incremental"))
        rows.append(
            f"| {run.scale.streams:,} | {_t(f)} | {_t(d)} | {_t(d, cpu=True)} "
            f"| {_num(metrics.ratio(run, 'duckdb', 'floor'))} | {_t(i)} | {_t(i, cpu=True)} |"
        )
    exps = {case: metrics.growth_exponent(runs, case) for case in ("floor", "duckdb")}
    cpu_exp = metrics.growth_exponent(runs, "duckdb", cpu=True)
    flat = metrics.incremental_growth(runs)
    return (
        "## Scaling\n\n" + "\n".join(rows) + "\n\n"
        f"Growth exponent (log-log slope of time over streams; 1.0 is linear): musicstream "
        f"{_num(exps['duckdb'])} wall, {_num(cpu_exp)} CPU; floor {_num(exps['floor'])} wall.\n"
        f"Incremental batch ({_batch(runs[0]):,} streams) on the largest history over "
        f"the smallest: {_num(flat)}x (flat means the cost follows the batch, not the history).\n"
    )


def _freshness(path: Path, section: object) -> str:
    """The freshness case's section between its markers, or, when the case was skipped, the
    one already in ``path`` (``python -m bench.freshness`` may have written it alone)."""
    if isinstance(section, str):
        return freshness_report.block_of(section)
    return freshness_report.kept_block(path)


def _failures(runs: list[ScaleRun]) -> str:
    lines = []
    for run in runs:
        for case in run.cases.values():
            if not case.result.ok:
                lines.append(
                    f"- **{case.label}** at {run.scale.label}: {case.result.error} "
                    f"(log: `{case.result.log}`)"
                )
    return "## Failures\n\n" + "\n".join(sorted(set(lines))) + "\n" if lines else ""


def _facts(context: dict[str, object]) -> str:
    facts = context["facts"]
    versions = context["versions"]
    assert isinstance(facts, dict) and isinstance(versions, dict)
    lines = [f"- {k}: {v}" for k, v in facts.items()]
    lines.append(f"- load average at end: {context['load_end']:.2f} (the harness's own work)")
    lines.append(f"- total harness time: {context['elapsed_s']:.0f} s")
    vers = [f"- {k}: {v}" for k, v in versions.items()]
    return "## Machine\n\n" + "\n".join(lines) + "\n\n## Versions\n\n" + "\n".join(vers) + "\n"


def _notes(run: ScaleRun) -> str:
    tables = len(KPI_TABLES) + len(PERIOD_TABLES)
    return f"""## What each case is

- **floor**: `read_csv` of the streams CSV into a DuckDB table with the final types
  (listen_time as TIMESTAMPTZ), nothing else: the least any pipeline must spend.
- **musicstream run (DuckDB)**: the whole product on a fresh lake: content hashing, row-by-row
  validation with quarantine, curated Parquet per date, the {tables} KPI tables, SQLite store,
  archive.
- **incremental**: a further batch of streams for one new day, run on top of that lake.
- **musicstream run --engine spark**: the same run on the Spark engine (`local[N]`); its KPI
  Parquet is compared with the DuckDB lake's.
- **peer: pandas in one process**: `bench/peers/pandas_pipeline.py`, read everything into
  DataFrames, merge, `groupby`, sort for top-N, `to_sql`.
- **peer: PySpark Glue job**: `bench/peers/glue_pyspark.py`, whole-batch recompute with
  DataFrame aggregations, `rank()` per genre/day for the top-N tables, one store write per
  row. `rank()` gives tied rows the same rank (and more than N rows), and a keyed store keeps
  one of them, so its top-N tables differ from SPEC §3's deterministic ranking.
"""


def _batch(run: ScaleRun) -> int:
    case = run.cases.get("incremental")
    return case.streams if case else 0


def _t(case: Case | None, *, cpu: bool = False) -> str:
    if case is None:
        return "n/a"
    return f"{case.result.cpu_s if cpu else case.result.wall_s:.1f}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
