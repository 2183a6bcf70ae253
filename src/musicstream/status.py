"""`musicstream status`: what the ledger knows — batches, files, dates, data quality."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from musicstream import replay
from musicstream.lock.record import is_stale
from musicstream.pipeline import curated_dates, lake_for
from musicstream.settings import Settings
from musicstream.state import REJECTED, Ledger, read_lock


def collect(settings: Settings) -> dict[str, Any]:
    """The ledger's report; damaged manifests are listed, not fatal (status is for diagnosis)."""
    lake = lake_for(settings)
    batches, damaged = Ledger(lake).scan()
    quality: dict[str, dict[str, int]] = {}
    for batch in batches:
        for q in batch.quality:
            per = quality.setdefault(q["dataset"], {})
            per[q["reason"]] = per.get(q["reason"], 0) + q["rows"]
    dates = curated_dates(lake)
    lock = read_lock(lake)
    return {
        "lake": lake.url,
        "lock": None if lock is None else {**vars(lock), "stale": is_stale(lock)},
        "batches": [
            {
                "batch_id": b.batch_id,
                "status": b.status,
                "files": len(b.files),
                "read": sum(f.rows_read for f in b.files),
                "kept": sum(f.rows_kept for f in b.files),
                "quarantined": sum(f.rows_quarantined for f in b.files),
                "dates": len(b.dates),
            }
            for b in batches
        ],
        "dates": {
            "count": len(dates),
            "first": dates[0] if dates else None,
            "last": dates[-1] if dates else None,
        },
        "quality": quality,
        "replays": replay.summaries(lake, batches),
        "damaged": [{"file": d.path, "error": str(d)} for d in damaged],
    }


def lock_line(lock: dict[str, Any]) -> str:
    """Who holds the lake's lock, until when, and whether a run would take it over."""
    line = f"locked by pid {lock['pid']} on {lock['host']} since {lock['started']}"
    if lock.get("lease_until"):
        line += f", lease until {lock['lease_until']}"
    if lock.get("stale"):
        line += " (stale: its holder is gone or stopped renewing; the next run takes it over)"
    return line


def render(report: dict[str, Any]) -> None:
    from musicstream.console import console, rows_table

    console.print(f"Lake {report['lake']}")
    for damaged in report["damaged"]:  # one unwrapped line each: a path to copy
        console.print(damaged["error"], style="red", markup=False, highlight=False, soft_wrap=True)
    if report["lock"]:
        console.print(f"[yellow]{lock_line(report['lock'])}[/]")
    else:
        console.print("Not locked: no run is writing.")
    console.print(rows_table("Batches", report["batches"]))
    d = report["dates"]
    console.print(f"Curated dates: {d['count']} ({d['first']} … {d['last']})")
    rows = [
        {"dataset": ds, "reason": r, "rows": n}
        for ds, reasons in report["quality"].items()
        for r, n in sorted(reasons.items())
    ]
    console.print(rows_table("Data quality (all batches)", rows))
    if report["replays"]:
        console.print(rows_table("Replays", report["replays"], replay.COLUMNS))


def check(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """`status --check`: the health checks over the lake's latest finished batch (freshness
    over the whole ledger); when any fires, an alert through ``notify`` (status
    ``unhealthy``)."""
    from musicstream import health, notify

    lake = lake_for(settings)
    recent = health.Recent(lake)
    finished = (*health.VISIBLE, REJECTED)
    latest = [b for b in recent.before() if b.status in finished][:1]
    warnings = [w.as_dict() for w in health.check_batches(settings, lake, latest, now, recent)]
    last = health.last_visible(settings, recent)
    at, batch_id = last if last else (None, None)
    report = {
        "status": "unhealthy" if warnings else "healthy",
        "lake": lake.url,
        "batch_ids": [b.batch_id for b in latest],
        "last_batch": batch_id,
        "loaded_at": at and at.isoformat(),
        "age_s": at and round(((now or datetime.now(UTC)) - at).total_seconds()),
        "warnings": warnings,
    }
    if warnings:
        notify.notify(settings, report)
    return report


def render_check(report: dict[str, Any]) -> None:
    """One line per finding, or one line saying all is well."""
    from musicstream.console import console
    from musicstream.health import span

    for w in report["warnings"]:
        console.print(f"{w['check']}: {w['message']}", markup=False, highlight=False)
    if report["warnings"]:
        return
    if report["last_batch"] is None:
        console.print("healthy: no batch loaded yet", markup=False, highlight=False)
        return
    ago = span(max(report["age_s"], 0))
    line = f"healthy: last batch {report['last_batch']} loaded {ago} ago"
    console.print(line, markup=False, highlight=False)
