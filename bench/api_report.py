"""The "Read API under load" section of BENCHMARKS.md, written between its two markers (the
rest of the file is ``make bench``'s and is left as it is)."""

from __future__ import annotations

import math
from pathlib import Path

from bench import sections
from bench.api_load import ClassLoad, Phase
from bench.api_mix import MIX

START, END = sections.API.start, sections.API.end
LABELS = {"lookups": "key lookups", "ranges": "30-day ranges"}
# (name, asked, class or None for all, what, limit, at most)
TARGETS = (
    ("p95, key lookups", "≤ 20 ms", "lookups", "p95", 20.0, True),
    ("p95, 30-day ranges", "≤ 50 ms", "ranges", "p95", 50.0, True),
    ("requests/s, both classes", "≥ 1,000", None, "rps", 1000.0, False),
    ("errors (non-200, no answer)", "0", None, "errors", 0.0, True),
    ("torn reads", "0", None, "torn", 0.0, True),
)


def splice(path: Path, section: str) -> None:
    sections.API.splice(path, section)


def section(phases: list[Phase], context: dict[str, object]) -> str:
    parts = [
        _header(context),
        _loads(phases),
        _costs(phases),
        _targets(phases),
        _failures(phases),
        _mix(),
        _notes(),
        _facts(context),
    ]
    return "\n".join(p for p in parts if p)


def _header(c: dict[str, object]) -> str:
    conns, paced = c["conns"], c.get("paced")
    assert isinstance(conns, dict)
    nice = f"nice -n {c['nice']} " if c.get("nice") else ""
    pacing = (
        f"""
The window "during run, {c["rate"]:,.0f} req/s offered" repeats the run on a fresh copy of
the lake with the load paced instead: {paced["lookups"]} + {paced["ranges"]} connections,
each sending a request every {1000 * (paced["lookups"] + paced["ranges"]) / c["rate"]:.0f} ms
(a late one at once): the latency at the issue's rate, and the run at that load. Throughput
below the rate offered means the server fell behind.
"""
        if isinstance(paced, dict)
        else ""
    )
    return f"""## Read API under load

`musicstream serve` (SQLite store; uvicorn) answering SPEC §5's access patterns from the
**{c["streams"]:,}-stream lake** ({c["days"]} days loaded, {c["songs"]:,} songs, {c["users"]:,}
users), while one `{nice}musicstream run --threads {c["threads"]}` loads a batch of {c["batch"]:,}
streams that restates every loaded date (40% late streams over the loaded days, 10%
duplicates, the rest on the next day, a few song and user changes). Load: {c["wrk"]}, one
process per request class, both at once. Closed loop (a connection sends its next request
when the answer arrives: the most the server gives, and its latency at that throughput): key
lookups on {conns["lookups"]} connections, 30-day ranges on {conns["ranges"]}. After a
{c["warmup"]} s warm-up, the window "alone" loads the server for {c["duration"]} s with no run;
the window "during run" starts the run {c["lead"]:.1f} s in and ends when the run ends, so
the whole run is under load.
{pacing}
Reproduce: {c["command"]}
{_shared(c)}"""


def _shared(c: dict[str, object]) -> str:
    if not c.get("shared"):
        return ""
    return (
        "\n> **Shared machine.** Other work was running when the benchmark started (load "
        f"average {c['load_start']:.2f}): the server, wrk and the run got less than the 2 "
        "cores, so throughput is low and latency high by an unknown margin; CPU per request "
        "is the steadier number.\n"
    )


def _loads(phases: list[Phase]) -> str:
    rows = [
        "| server | window | class | connections | requests | req/s | p50 ms | p95 ms "
        "| p99 ms | max ms | errors | torn reads |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in phases:
        for load in p.classes.values():
            rows.append(_load_row(p, load))
        rows.append(
            f"| {_server(p)} | {p.name} | **all** | {sum(x.connections for x in _c(p))} "
            f"| {_requests(p):,} | **{p.rps:,.0f}** "
            f"| | | | | {_errors(p)} | {_torn(p)} |"
        )
    return "### Throughput and latency\n\n" + "\n".join(rows) + "\n"


def _load_row(p: Phase, x: ClassLoad) -> str:
    ms = " | ".join(_ms(x.ms(k)) for k in ("50", "95", "99", "max"))
    return (
        f"| {_server(p)} | {p.name} | {LABELS[x.name]} | {x.connections} "
        f"| {int(x.stats.get('requests', 0)):,} | {x.rps:,.0f} | {ms} | {x.errors} "
        f"| {int(x.stats.get('violations', 0)) + x.torn} |"
    )


def _costs(phases: list[Phase]) -> str:
    rows = [
        "| server | window | window s | server CPU s | server CPU ms a request | wrk CPU s "
        "| run wall s | run CPU s | run, s into the window | dates the run recomputed "
        "| load average at the end |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for p in phases:
        wrk = sum(x.wrk_cpu_s for x in _c(p))
        run = p.run
        if run is None:
            tail = "| | | | |"
        elif not run.ok:
            tail = f"| failed | | see below | {p.run_dates or ''} |"
        else:
            end = p.run_start_s + run.wall_s
            tail = (
                f"| {run.wall_s:.1f} | {run.cpu_s:.1f} | {p.run_start_s:.1f} → {end:.1f} "
                f"| {p.run_dates if p.run_dates is not None else 'n/a'} |"
            )
        per = 1000 * p.server_cpu_s / max(_requests(p), 1)
        head = f"| {_server(p)} | {p.name} | {p.window_s:.1f} | {p.server_cpu_s:.1f} | {per:.2f}"
        rows.append(f"{head} | {wrk:.1f} {tail} {p.load_avg:.1f} |")
    return (
        "### CPU and the concurrent run\n\n"
        "CPU is user + sys. The machine has 2 cores: a window of W s offers 2W CPU seconds to "
        "the server, wrk and the run together. CPU per request is the steadier number on a "
        "shared machine. The load average counts this benchmark's own runnable threads too "
        "(server workers, wrk threads, the run's).\n\n" + "\n".join(rows) + "\n"
    )


def _targets(phases: list[Phase]) -> str:
    during = [p for p in phases if p.run is not None]
    head = "| target | asked | " + " | ".join(_window(p) for p in during) + " | met |"
    rows = [head, "|---|---|" + "---:|" * len(during) + "---|"]
    for name, asked, cls, what, limit, at_most in TARGETS:
        judged = [p for p in during if not (what == "rps" and p.rate)]  # paced: capped
        values = {id(p): _value(p, cls, what) for p in judged}
        ok = [values[id(p)] <= limit if at_most else values[id(p)] >= limit for p in judged]
        met = "yes" if all(ok) else ("**no**" if not any(ok) else _met_by(judged, ok))
        shown = " | ".join(_shown(values.get(id(p)), what) for p in during)
        rows.append(f"| {name} | {asked} | {shown} | {met} |")
    return (
        "### Targets (during the run)\n\nThroughput is judged on the closed-loop windows "
        "only (a paced window gets at most what it offers).\n\n" + "\n".join(rows) + "\n"
    )


def _shown(value: float | None, what: str) -> str:
    if value is None:
        return "—"
    return _ms(value) if what == "p95" else f"{value:,.0f}"


def _met_by(phases: list[Phase], ok: list[bool]) -> str:
    return "with " + ", ".join(_window(p) for p, good in zip(phases, ok, strict=True) if good)


def _window(p: Phase) -> str:
    return f"{_server(p)}, {p.name}"


def _value(p: Phase, cls: str | None, what: str) -> float:
    loads = [p.classes[cls]] if cls else _c(p)
    if what == "p95":
        return loads[0].ms("95")
    if what == "rps":
        return sum(x.rps for x in loads)
    if what == "errors":
        return float(sum(x.errors for x in loads))
    return float(sum(int(x.stats.get("violations", 0)) + x.torn for x in loads))


def _failures(phases: list[Phase]) -> str:
    lines = []
    for p in phases:
        where = f"{_server(p)}, {p.name}"
        if p.run is not None and not p.run.ok:
            lines.append(f"- {where}: the run failed: {p.run.error} (log: `{p.run.log}`)")
        for x in _c(p):
            codes = ", ".join(f"HTTP {k}: {n}" for k, n in sorted(x.statuses.items()))
            for text in [*([codes] if codes else []), *x.samples]:
                lines.append(f"- {where}, {LABELS[x.name]}: {text}")
            lines += [f"- {where}, {LABELS[x.name]}: neither version: {k}" for k in x.torn_samples]
    return "### Errors and torn reads seen\n\n" + "\n".join(lines) + "\n" if lines else ""


def _mix() -> str:
    rows = ["| class | SPEC §5 pattern | request | share of its class |", "|---|---:|---|---:|"]
    for cls, patterns in MIX.items():
        total = sum(p.share for p in patterns)
        for p in patterns:
            rows.append(f"| {LABELS[cls]} | {p.number} | `{p.request}` | {p.share / total:.0%} |")
    return (
        "### The mix\n\nKeys come from the lake: loaded dates; genres, tracks and users drawn "
        "in proportion to their plays. A range ends on one of the last four loaded dates or "
        "on the day the run adds, and spans 30 days.\n\n" + "\n".join(rows) + "\n"
    )


def _notes() -> str:
    return """**Errors** are answers other than 200 plus requests that got no answer (socket
errors, timeouts). **Torn reads** are answers that break an invariant checked as they arrive
(top-N ranks exactly 1..k, distinct hours, every row of the asked date, range dates
ascending inside the range) plus answers that are, byte for byte, neither the store's answer
before the run nor after it (for ranges: each row, per date, in either version).
"""


def _facts(c: dict[str, object]) -> str:
    facts, versions = c["facts"], c["versions"]
    assert isinstance(facts, dict) and isinstance(versions, dict)
    lines = [f"- {k}: {v}" for k, v in facts.items()]
    lines.append(f"- total harness time: {c['elapsed_s']:.0f} s")
    vers = ", ".join(f"{k} {v}" for k, v in versions.items())
    return "### Machine\n\n" + "\n".join(lines) + f"\n\nVersions: {vers}.\n"


def headline(phases: list[Phase]) -> list[str]:
    """One line per window during a run, for the harness's last lines."""
    out = []
    for p in (p for p in phases if p.run is not None):
        out.append(
            f"api_{p.workers}_workers{'_paced' if p.rate else ''}: {p.rps:.0f} req/s, p95 lookups "
            f"{_ms(_value(p, 'lookups', 'p95'))} ms, p95 ranges {_ms(_value(p, 'ranges', 'p95'))}"
            f" ms, errors {_value(p, None, 'errors'):.0f}, torn {_value(p, None, 'torn'):.0f}"
        )
    return out


def _c(p: Phase) -> list[ClassLoad]:
    return list(p.classes.values())


def _requests(p: Phase) -> int:
    return sum(int(x.stats.get("requests", 0)) for x in _c(p))


def _server(p: Phase) -> str:
    return f"{p.workers} worker{'s' if p.workers > 1 else ''}"


def _errors(p: Phase) -> str:
    return f"{sum(x.errors for x in _c(p)):,}"


def _torn(p: Phase) -> str:
    return f"{sum(int(x.stats.get('violations', 0)) + x.torn for x in _c(p)):,}"


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f}"
