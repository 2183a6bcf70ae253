"""Static PNG versions of the report charts (matplotlib), for mail, slides and tickets.

Uses matplotlib's object API (``Figure`` + Agg canvas), never ``pyplot``: no global state,
no GUI backend, safe in a headless job. Same data and file stems as the HTML charts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from musicstream.report.charts import (
    MS_PER_MINUTE,
    OUTCOME_COLORS,
    TOP_COUNTRIES,
    WARNED,
    Row,
    by_key,
    quality_series,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from musicstream.report.data import ReportData

_SIZE = (11, 5.5)


def text(value: object) -> str:
    """Data text for matplotlib: ``$`` escaped, so a name like ``$^$`` is not mathtext."""
    return str(value).replace("$", r"\$")


def write_pngs(data: ReportData, out_dir: Path) -> list[Path]:
    """One PNG per chart in ``out_dir`` (created if needed); returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    drawers: dict[str, Callable[[Figure, ReportData], None]] = {
        "top_genres": _top_genres,
        "top_artists": _top_artists,
        "top_songs": _top_songs,
        "countries": _countries,
        "listening_per_user": _listening,
        "data_quality": _quality,
    }
    paths = []
    for key, draw in drawers.items():
        fig = Figure(figsize=_SIZE, layout="constrained")
        draw(fig, data)
        if not any(ax.has_data() for ax in fig.axes):
            fig.text(0.5, 0.5, "No data for this period", ha="center", va="center")
        path = out_dir / f"{key}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths


def _lines(ax: Axes, rows: list[Row], y: Callable[[Row], float], **style: Any) -> None:
    for genre, series in by_key(rows, "genre"):
        days = [r["report_date"] for r in series]
        ax.plot(days, [y(r) for r in series], label=text(genre), **style)


def _top_genres(fig: Figure, data: ReportData) -> None:
    ax = fig.add_subplot()
    ax.set_title("Top genres over time")
    _lines(ax, data.top_genres, lambda r: r["listen_count"], marker="o")
    ax.set_ylabel("plays per day")
    if data.top_genres:
        ax.legend(ncols=4, fontsize=8)


def _top_artists(fig: Figure, data: ReportData) -> None:
    ax = fig.add_subplot()
    ax.set_title("Top artists of the period")
    rows = data.artists
    ax.barh([f"{r['rank']}. {text(r['artist'])}" for r in rows], [r["listen_count"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("plays")


def _top_songs(fig: Figure, data: ReportData) -> None:
    """The top songs of the five busiest genres of the latest day (the HTML has them all)."""
    ax = fig.add_subplot()
    genres = by_key(data.songs, "genre")[:5]
    ax.set_title(
        f"Top songs per genre on {data.songs[0]['report_date']}" if genres else "Top songs"
    )
    for genre, songs in genres:
        names = [text(f"{genre} {r['rank']}. {r['track_name']}") for r in songs]
        ax.barh(names, [r["listen_count"] for r in songs], label=text(genre))
    ax.invert_yaxis()
    ax.set_xlabel("plays")


def _countries(fig: Figure, data: ReportData) -> None:
    ax = fig.add_subplot()
    rows = data.countries[:TOP_COUNTRIES]
    ax.set_title("Plays and listeners per country")
    if not rows:
        return
    names = [text(r["country"]) for r in rows]
    ax.bar(names, [r["listen_count"] for r in rows], label="plays")
    ax.set_ylabel("plays")
    ax.tick_params(axis="x", labelrotation=45)
    twin = ax.twinx()
    twin.plot(names, [r["avg_daily_listeners"] for r in rows], "D", color="#d62728")
    twin.set_ylabel("avg daily listeners (diamonds)")
    twin.set_ylim(bottom=0)


def _listening(fig: Figure, data: ReportData) -> None:
    ax = fig.add_subplot()
    ax.set_title("Listening time per listener")
    rows = data.engagement
    days = [r["report_date"] for r in rows]
    minutes = [r["avg_listening_ms_per_user"] / MS_PER_MINUTE for r in rows]
    ax.plot(days, minutes, color="#222", linewidth=3, label="all listeners")
    _lines(ax, data.genres, lambda r: r["avg_listening_ms_per_user"] / MS_PER_MINUTE, ls=":")
    ax.set_ylabel("minutes per listener per day")
    if rows:
        ax.legend(ncols=4, fontsize=8)


def _quality(fig: Figure, data: ReportData) -> None:
    """Kept vs quarantined stacked per batch, warned rows as crosses (top); quarantined rows
    by cause (bottom)."""
    if not data.quality:
        fig.add_subplot().set_title("Data quality per batch")
        return
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.set_title("Data quality per batch (rows)")
    series = quality_series(data.quality)
    outcomes = [(o, series.outcomes[o]) for o in ("kept", "quarantined")]
    _stack(top, series.batches, outcomes)
    warned = series.outcomes["warning"]
    top.plot(series.batches, warned, "X", color=OUTCOME_COLORS["warning"], label=WARNED)
    top.legend(fontsize=8)
    _stack(bottom, series.batches, [(text(c), counts) for c, counts in series.causes])
    bottom.legend(fontsize=8)
    bottom.tick_params(axis="x", labelrotation=30, labelsize=7)
    top.set_ylabel("rows")
    bottom.set_ylabel("quarantined rows")


def _stack(ax: Axes, batches: list[str], layers: list[tuple[str, list[int]]]) -> None:
    """Stacked bars per batch, one layer per (name, counts)."""
    base = [0] * len(batches)
    for name, counts in layers:
        ax.bar(batches, counts, bottom=base, label=name, color=OUTCOME_COLORS.get(name))
        base = [b + c for b, c in zip(base, counts, strict=True)]
