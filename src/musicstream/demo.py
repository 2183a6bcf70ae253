"""`musicstream demo`: a fresh lake, a small dirty dataset, two batches, and what came out."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from musicstream import pipeline
from musicstream.console import console, print_rows, print_run_summary
from musicstream.errors import UserError
from musicstream.layout import DEMO_MARKER, DEMO_SCRATCH, LANDING, STATE
from musicstream.settings import load_settings
from musicstream.stores import KpiQuery, create_store

START = date(2026, 1, 1)


def fresh_lake(lake: Path) -> None:
    """Start from an empty folder; only a previous demo lake is ever wiped."""
    if lake.exists() and any(lake.iterdir()):
        if not (lake / DEMO_MARKER).exists():
            raise UserError(f"{lake} exists and is not a demo lake; choose another --lake")
        shutil.rmtree(lake)
    (lake / STATE).mkdir(parents=True, exist_ok=True)
    (lake / DEMO_MARKER).write_text("created by `musicstream demo`; safe to delete\n")


def run_demo(lake: Path) -> None:
    from musicstream.generate import generate, generate_increment

    fresh_lake(lake)
    # The demo lands its own files, whole, just before each run: nothing is in flight.
    settings = load_settings(lake=str(lake), progress=False, settle_s=0)
    first = lake / DEMO_SCRATCH
    console.rule("Batch 1: a week of listening, with some bad rows and files")
    generate(
        lake / LANDING,
        streams=50_000,
        songs=2_280,
        users=3_000,
        days=7,
        start=START,
        seed=42,
        dirty=0.02,
    )
    shutil.copytree(lake / LANDING, first)  # what batch 2 is made relative to
    print_run_summary(pipeline.run(settings))
    console.rule("Batch 2: late streams, duplicates, and dimension updates")
    generate_increment(lake / LANDING, first, streams=5_000, seed=7, dirty=0.02)
    shutil.rmtree(first)
    print_run_summary(pipeline.run(settings))
    show_day(settings, pipeline.curated_dates(pipeline.lake_for(settings))[-1])
    _write_report(lake)


def show_day(settings: object, day: date) -> None:
    """Top genres and songs, plays per country of one day, read back from the store."""
    store = create_store(settings)  # type: ignore[arg-type]
    try:
        console.rule(f"KPIs of {day} (read from the serving store)")
        for table in ("top_genres_daily", "top_artists_daily"):
            print_rows(table, store.query(KpiQuery(table, date=day)))
        countries = store.query(KpiQuery("country_daily", date=day))
        countries.sort(key=lambda r: -r["listen_count"])
        print_rows("country_daily (10 countries with most plays)", countries[:10])
        songs = store.query(KpiQuery("top_songs_daily", date=day))
        top_genres = [r["genre"] for r in store.query(KpiQuery("top_genres_daily", date=day))][:3]
        print_rows("top_songs_daily (top 3 genres)", [r for r in songs if r["genre"] in top_genres])
    finally:
        store.close()


def _write_report(lake: Path) -> None:
    try:
        from musicstream.report.build import write_report
    except ImportError:
        console.print("(install the 'report' extra for the HTML report)")
        return
    out = write_report(str(lake), lake / "report.html")
    console.print(f"Report: {out.resolve()}")
