"""The listening report: library queries over the lake -> one offline HTML file (+ PNGs).

The charts of the daily KPIs are fed by queries of the analyst library (``sql/``), so what
they show is exactly what an analyst gets from ``musicstream query`` or from Athena; the
listener charts read their tables through ``listeners``.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import plotly.graph_objects as go

from musicstream.report import charts, lakeio, listener_charts, queries
from musicstream.report.charts import MS_PER_HOUR
from musicstream.report.data import REPORT_QUERIES, ReportData, load_data
from musicstream.report.listeners import LISTENER_TABLES
from musicstream.report.page import Section, render_page

SECTIONS = (
    Section(
        "top_genres",
        "Top genres over time",
        "Daily plays of every genre that made the daily top-genres list in the period.",
    ),
    Section("top_artists", "Top artists", "Plays over the period; each credited artist counts."),
    Section(
        "top_songs",
        "Top songs per genre, latest day",
        "Pick a genre in the menu; genres are listed busiest first.",
    ),
    Section(
        "countries",
        "Plays and listeners per country",
        "Plays over the period (bars) and average daily listeners (diamonds), top countries.",
    ),
    Section(
        "listening_per_user",
        "Listening time per listener",
        "Minutes listened per listener and day, overall and within each top genre.",
    ),
    Section(
        "hourly_activity",
        "When people listen",
        "Plays per weekday and hour of the day (UTC), summed over the period.",
    ),
    Section(
        "active_listeners",
        "Active listeners",
        "Distinct listeners per day (DAU), ISO week (WAU) and month (MAU), each drawn over "
        "its period (top); listeners whose account was created that day (bottom).",
    ),
    Section(
        "listener_activity",
        "Streams per listener and day",
        "How many streams a listener plays on a day they listen: user-days per bin.",
    ),
    Section(
        "data_quality",
        "Data quality",
        "Share of each dataset's rows read, over the period's batches, that each reason "
        "quarantined; warnings flag rows that were kept anyway.",
    ),
)


def figures(data: ReportData) -> list[tuple[Section, go.Figure]]:
    """Each report section with its plotly figure, in page order."""
    colors = data.colors
    built = {
        "top_genres": charts.top_genres(data.top_genres, colors),
        "top_artists": charts.top_artists(data.artists),
        "top_songs": charts.top_songs(data.songs, colors),
        "countries": charts.countries(data.countries),
        "listening_per_user": charts.listening_per_user(data.engagement, data.genres, colors),
        "hourly_activity": listener_charts.hourly_heatmap(data.hourly),
        "active_listeners": listener_charts.active_listeners(data.active),
        "listener_activity": listener_charts.activity(data.activity),
        "data_quality": charts.quality(data.quality),
    }
    return [(section, built[section.key]) for section in SECTIONS]


def summary_cards(data: ReportData) -> list[tuple[str, str]]:
    """Headline numbers of the period as (value, label) pairs."""
    days = data.engagement
    quarantined = sum(r["rows"] for r in data.quality if r["outcome"] == "quarantined")
    return [
        (f"{len(days):,}", "days with data"),
        (f"{sum(r['listen_count'] for r in days):,}", "plays"),
        (f"{sum(r['total_listening_ms'] for r in days) / MS_PER_HOUR:,.1f}", "hours listened"),
        (f"{max((r['listeners'] for r in days), default=0):,}", "listeners on the peak day"),
        (f"{len({r['batch_id'] for r in data.quality}):,}", "batches"),
        (f"{quarantined:,}", "rows quarantined"),
    ]


def render(data: ReportData, lake: str) -> str:
    """The report page for the loaded data."""
    days = [r["report_date"] for r in data.top_genres]
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    subtitle = f"{min(days)} to {max(days)} · lake {lake} · generated {generated}"
    return render_page("musicstream listening report", subtitle, summary_cards(data), figures(data))


def write_report(
    lake: str,
    out: Path,
    date_from: date | None = None,
    date_to: date | None = None,
    png_dir: Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Path:
    """Write the HTML report of the period (default: every date in the lake) to ``out``.

    ``png_dir`` also writes one static PNG per chart. ``con`` is a DuckDB connection able to
    read the lake (needed for object stores); by default a fresh in-memory one.
    """
    params = queries.Params(date_from, date_to)
    tables = {t for name in REPORT_QUERIES for t in queries.tables_read(name)}
    tables |= set(LISTENER_TABLES)
    with (
        duckdb.connect() if con is None else nullcontext(con) as connection,
        lakeio.readable(lake, tables) as root,
    ):
        data = load_data(connection, root, params)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(data, lake), encoding="utf-8")
    if png_dir is not None:
        from musicstream.report.static import write_pngs

        write_pngs(data, png_dir)
    return out
