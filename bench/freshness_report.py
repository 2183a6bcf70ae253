"""The section "Freshness under watch" of BENCHMARKS.md, between its two markers: written by
``python -m bench.freshness`` alone (the rest of the file is left as it is) and by ``make
bench`` with the rest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench import machine, sections

if TYPE_CHECKING:
    from bench.freshness import Result

TITLE = "Freshness under watch"
START, END = sections.FRESHNESS.start, sections.FRESHNESS.end
TARGET_P95_S = 3.0  # plus settle_s
TARGET_RATE = 100_000  # streams/s arriving, without the backlog growing


def splice(path: Path, section: str) -> None:
    sections.FRESHNESS.splice(path, section)


def block_of(section: str) -> str:
    return sections.FRESHNESS.block(section)


def kept_block(path: Path) -> str:
    return sections.FRESHNESS.kept(path)


def section(r: Result, command: str) -> str:
    parts = [_header(r, command), _latency(r), _throughput(r), _targets(r), _notes()]
    if r.error:
        parts.append(f"**The case failed**: {r.error} (watcher log: `{r.log}`)\n")
    return "\n".join(p for p in parts if p)


def headline(r: Result) -> list[str]:
    """The case's closing lines."""
    p95 = _pct(_lags(r), 95)
    best = r.sustained
    rate = f"{best.rate:.0f}" if best and best.rate else "n/a"
    return [f"freshness_p95_s: {_s(p95)}", f"sustained_streams_per_s: {rate}"]


def _header(r: Result, command: str) -> str:
    o = r.options
    landed = sum(f.streams for f in r.steady)
    return f"""## {TITLE}

`musicstream watch --log-format json` ({o.threads} threads, **settle_s = {o.settle_s:g} s**) on a
copy of the {r.scale.streams:,}-stream lake (latest date {r.latest}). Steady: a micro-batch of
{o.streams:,} streams (the latest two days, real users and tracks; a tenth late by a day)
landed every {o.interval_s:g} s for {o.duration_s:g} s: {len(r.steady)} files, {landed:,}
streams, after one warm-up micro-batch (the watcher's first batch pays its imports: landed →
visible {_s(_first_lag(r))} s, not counted). Then bursts of micro-batches landed at once.
1-minute load average {r.load[0]:.2f} at the start, {r.load[1]:.2f} at the end, on
{os.cpu_count()} cores{_busy(r)}.

Reproduce: {command}
"""


def _busy(r: Result) -> str:
    if not machine.busy(r.load[0]):
        return ""
    return (
        ": **a shared machine**, other work was running, so wall times are inflated (the "
        "watcher's CPU seconds are the steadier number)"
    )


def _latency(r: Result) -> str:
    rows = [
        "| landed → visible, s | count | p50 | p95 | max |",
        "|---|---:|---:|---:|---:|",
        _row("store poll: rename → its batch in `loads` (per file)", _lags(r)),
        _row("watcher's `freshness_s` (per batch)", _watcher(r, "freshness_s")),
        _row("of which: rename → taken into a batch (per file)", _taken(r)),
        _row("of which: the batch (watcher's `duration_s`)", _watcher(r, "duration_s")),
        _row("the watcher's CPU s a batch, load to load (not a latency)", r.batch_cpu_s),
    ]
    cpu = r.steady_cpu_s / r.steady_wall_s if r.steady_wall_s else 0.0
    per = r.steady_cpu_s / len(r.batches) if r.batches else 0.0
    return (
        "### Landed → visible in the SQLite store\n\n"
        + "\n".join(rows)
        + f"\n\nThe watcher over the steady phase: {r.steady_wall_s:.1f} s wall, "
        f"{r.steady_cpu_s:.1f} s CPU ({cpu:.0%} of one core; {per:.2f} CPU s a batch), "
        f"{len(r.batches)} batches; peak RSS over the case {r.peak_rss_gb:.2f} GB.\n"
    )


def _throughput(r: Result) -> str:
    if not r.bursts:
        return f"No bursts: {r.stopped}.\n" if r.stopped else ""
    rows = [
        "| micro-batches at once | streams | batches | batch s | streams/s | landed → visible s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    if r.batches:  # for comparison: the steady phase's median batch
        streams = _pct([_read(b) for b in r.batches], 50) or 0.0
        batch_s = _pct(_watcher(r, "duration_s"), 50) or 0.0
        rate = f"{streams / batch_s:,.0f}" if batch_s else "n/a"
        rows.append(f"| steady (median) | {streams:,.0f} | | {batch_s:.2f} | {rate} | |")
    for b in r.bursts:
        lag = max((f.lag_s for f in b.files if f.lag_s is not None), default=None)
        rate = f"{b.rate:,.0f}" if b.rate else "not visible"
        rows.append(
            f"| {len(b.files)} | {b.streams:,} | {len(b.batches)} | {b.batch_s:.2f} | {rate} "
            f"| {_s(lag)} |"
        )
    best = r.sustained
    rising = best is r.bursts[-1] and not r.stopped.startswith("bigger")
    verdict = (
        f"It sustains {'at least ' if rising else ''}**{best.rate:,.0f} streams/s** arriving "
        f"(batches of {best.streams:,} streams, {best.batch_s:.1f} s each): an arriving rate "
        "above the best streams/s means batches that take longer than their streams took to "
        "arrive, and a growing backlog. "
        if best and best.rate
        else "No burst was fully visible: no sustained rate. "
    )
    verdict += f"The bursts stopped because {r.stopped or 'the case failed'}" + (
        " while bigger batches were still faster: a lower bound." if rising else "."
    )
    return "### Throughput before it falls behind\n\n" + "\n".join(rows) + f"\n\n{verdict}\n"


def _targets(r: Result) -> str:
    p95 = _pct(_lags(r), 95)
    limit = TARGET_P95_S + r.options.settle_s
    best = r.sustained
    rate = best.rate if best else None
    rows = [
        "| target | asked | measured | met |",
        "|---|---|---:|---|",
        f"| landed → visible p95, {r.options.streams:,}-stream micro-batches "
        f"| ≤ {TARGET_P95_S:g} s + settle_s = {limit:g} s | {_s(p95)} s "
        f"| {_met(p95, limit, True)} |",
        f"| arriving streams/s sustained | ≥ {TARGET_RATE:,} "
        f"| {f'{rate:,.0f}' if rate else 'n/a'} | {_met(rate, TARGET_RATE, False)} |",
    ]
    return "### Targets (issue 16)\n\n" + "\n".join(rows) + "\n"


def _notes() -> str:
    return """How it is measured: each micro-batch is written to a hidden `.tmp` name, its mtime
set to the rename's instant, and renamed into `landing/streams/`. A poll every 25 ms reads
`_state/batches/` (a file is *taken* when a batch manifest lists it) and the store's `loads`
table read-only (`mode=ro`; *visible* when the load of its batch is there). The watcher's own
`freshness_s` is the time its batch returned minus the file's mtime (a little later than the
load: archiving follows). Percentiles are linear interpolations. Each burst lands after the
previous is visible; a batch takes every settled file, so a rate r is sustained once batches
of n streams take at most n / r s: the best streams/s over the bursts. Those streams land on
the lake's latest days too, so each burst's day is bigger than the last one's (a batch
recomputes its dates, weeks and month from all their streams).
"""


def _row(label: str, values: list[float]) -> str:
    return (
        f"| {label} | {len(values)} | {_s(_pct(values, 50))} | {_s(_pct(values, 95))} "
        f"| {_s(max(values) if values else None)} |"
    )


def _lags(r: Result) -> list[float]:
    return [f.lag_s for f in r.steady if f.lag_s is not None]


def _taken(r: Result) -> list[float]:
    return [f.taken - f.landed for f in r.steady if f.taken is not None]


def _watcher(r: Result, key: str) -> list[float]:
    return [float(b[key]) for b in r.batches if b.get(key) is not None]


def _read(batch: dict[str, Any]) -> float:
    return float(batch.get("datasets", {}).get("streams", {}).get("read", 0))


def _first_lag(r: Result) -> float | None:
    return r.warmup[0].lag_s if r.warmup else None


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _met(value: float | None, limit: float, at_most: bool) -> str:
    if value is None:
        return "n/a"
    return "yes" if (value <= limit if at_most else value >= limit) else "**no**"


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def as_dict(r: Result) -> dict[str, Any]:
    """The numbers, for a test or a JSON dump."""
    return {
        "p50_s": _pct(_lags(r), 50),
        "p95_s": _pct(_lags(r), 95),
        "max_s": max(_lags(r), default=None),
        "files": len(r.steady),
        "batches": len(r.batches),
        "sustained_streams_per_s": r.sustained.rate if r.sustained else None,
    }
