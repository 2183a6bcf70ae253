"""The report's data: the analyst-library queries behind its charts, run over the lake.

Its own module so that both renderings, the HTML page (``build``) and the PNGs (``static``),
take the same ``ReportData`` without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import duckdb

from musicstream.report import lakeio, listeners, queries
from musicstream.report.palette import genre_colors

if TYPE_CHECKING:
    from musicstream.report.charts import Row


@dataclass(frozen=True)
class ReportData:
    """The query results behind the charts, as lists of row dicts.

    The listener tables (``hourly``, ``active``, ``activity``: see ``listeners``) are newer
    than the rest; a lake without them gives empty lists.
    """

    top_genres: list[Row]
    genres: list[Row]
    artists: list[Row]
    songs: list[Row]
    countries: list[Row]
    engagement: list[Row]
    quality: list[Row]
    hourly: list[Row] = field(default_factory=list)
    active: list[Row] = field(default_factory=list)
    activity: list[Row] = field(default_factory=list)

    @cached_property
    def colors(self) -> dict[str, str]:
        """The report's one genre -> colour map: the genres drawn as series (the top-genres
        list) first, then every other genre the report names."""
        others = [r["genre"] for r in self.genres + self.songs]
        return genre_colors((r["genre"] for r in self.top_genres), others)


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
    dates = (params.date_from, params.date_to)
    return ReportData(
        top_genres=top_genres,
        genres=[r for r in daily if r["genre"] in names],
        artists=_rows(con, lake, "top_artists", params),
        songs=_rows(con, lake, "top_songs_latest", params),
        countries=_rows(con, lake, "country_plays", params),
        engagement=_rows(con, lake, "listener_engagement", params),
        quality=_rows(con, lake, "quality_by_batch", params),
        hourly=listeners.load(con, lake, "hourly_activity", *dates),
        active=listeners.load(con, lake, "active_listeners", *dates),
        activity=listeners.load(con, lake, "user_daily", *dates),
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
