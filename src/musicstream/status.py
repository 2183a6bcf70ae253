"""`musicstream status`: what the ledger knows — batches, files, dates, data quality."""

from __future__ import annotations

from typing import Any

from musicstream import replay
from musicstream.pipeline import curated_dates, lake_for
from musicstream.settings import Settings
from musicstream.state import Ledger, read_lock


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
        "lock": None if lock is None else vars(lock),
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


def render(report: dict[str, Any]) -> None:
    from musicstream.console import console, rows_table

    console.print(f"Lake {report['lake']}")
    for damaged in report["damaged"]:  # one unwrapped line each: a path to copy
        console.print(damaged["error"], style="red", markup=False, highlight=False, soft_wrap=True)
    if report["lock"]:
        lock = report["lock"]
        console.print(
            f"[yellow]locked by pid {lock['pid']} on {lock['host']} since {lock['started']}[/]"
        )
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
