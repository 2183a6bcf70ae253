"""The listening report: library queries over the lake -> one offline HTML file (+ PNGs).

Every chart is fed by a query of the analyst library (``sql/``), so what the report shows
is exactly what an analyst gets from ``musicstream query`` or from Athena.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import plotly.graph_objects as go

from musicstream.report import charts, lakeio, queries
from musicstream.report.charts import MS_PER_HOUR, Row
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
        "data_quality",
        "Data quality per batch",
        "Batches run in the period: rows kept vs quarantined, warned rows (kept anyway) as "
        "crosses (top); quarantined rows by reason (bottom).",
    ),
)


@dataclass(frozen=True)
class ReportData:
    """The query results behind the charts, as lists of row dicts."""

    top_genres: list[Row]
    genres: list[Row]
    artists: list[Row]
    songs: list[Row]
    countries: list[Row]
    engagement: list[Row]
    quality: list[Row]


REPORT_QUERIES = (
    "top_genres_trend",
    "genre_trend_daily",
    "top_artists",
    "top_songs_latest",
    "country_plays",
    "listener_engagement",
    "quality_by_batch",
)


def load_data(con: duckdb.DuckDBPyConnection, lake: str, params: queries.Params) -> ReportData:
    """Run the report's queries; ReportError when the period has no KPI data at all."""
    top_genres = _rows(con, lake, "top_genres_trend", params, required=True)
    if not top_genres:
        period = f"{params.date_from or 'the start'} to {params.date_to or 'the end'}"
        raise lakeio.ReportError(f"no KPI data in the lake {lake} from {period}")
    names = {r["genre"] for r in top_genres}
    daily = _rows(con, lake, "genre_trend_daily", params)
    return ReportData(
        top_genres=top_genres,
        genres=[r for r in daily if r["genre"] in names],
        artists=_rows(con, lake, "top_artists", params),
        songs=_rows(con, lake, "top_songs_latest", params),
        countries=_rows(con, lake, "country_plays", params),
        engagement=_rows(con, lake, "listener_engagement", params),
        quality=_rows(con, lake, "quality_by_batch", params),
    )


def _rows(
    con: duckdb.DuckDBPyConnection,
    lake: str,
    name: str,
    params: queries.Params,
    required: bool = False,
) -> list[Row]:
    """A query's rows; a table missing from the lake gives an empty chart unless required."""
    assert name in REPORT_QUERIES, f"add {name} to REPORT_QUERIES: its tables are mirrored"
    try:
        return queries.run_query(con, lake, name, params).to_pylist()
    except lakeio.LakeDataMissing:
        if required:
            raise
        return []


def figures(data: ReportData) -> list[tuple[Section, go.Figure]]:
    """Each report section with its plotly figure, in page order."""
    built = {
        "top_genres": charts.top_genres(data.top_genres),
        "top_artists": charts.top_artists(data.artists),
        "top_songs": charts.top_songs(data.songs),
        "countries": charts.countries(data.countries),
        "listening_per_user": charts.listening_per_user(data.engagement, data.genres),
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
