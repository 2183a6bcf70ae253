"""`musicstream status`: what the ledger knows — batches, files, dates, data quality."""

from __future__ import annotations

from typing import Any

from musicstream.pipeline import curated_dates, lake_for
from musicstream.settings import Settings
from musicstream.state import Ledger, read_lock


def collect(settings: Settings) -> dict[str, Any]:
    lake = lake_for(settings)
    batches = Ledger(lake).batches()
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
    }


def render(report: dict[str, Any]) -> None:
    from musicstream.console import console, rows_table

    console.print(f"Lake {report['lake']}")
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
