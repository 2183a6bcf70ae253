"""Static PNG versions of the report charts (matplotlib), for mail, slides and tickets.

Uses matplotlib's object API (``Figure`` + Agg canvas), never ``pyplot``: no GUI backend,
safe in a headless job; fonts and warning filters are scoped to the drawing
(``pngstyle.png_style``). Same data, colours and file stems as the HTML charts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from musicstream.report import pngstyle, static_listeners
from musicstream.report.charts import MS_PER_MINUTE, TOP_COUNTRIES, Row, by_key
from musicstream.report.palette import TOTAL, color_of
from musicstream.report.pngstyle import short
from musicstream.report.rates import quality_rates

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from musicstream.report.data import ReportData

_SIZE = (11, 5.5)
Drawer = Callable[[Figure, "ReportData"], None]


def text(value: object) -> str:
    """Data text for matplotlib: ``$`` escaped, so a name like ``$^$`` is not mathtext."""
    return str(value).replace("$", r"\$")


def write_pngs(data: ReportData, out_dir: Path) -> list[Path]:
    """One PNG per chart in ``out_dir`` (created if needed); returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with pngstyle.png_style():
        for key in drawers():
            path = out_dir / f"{key}.png"
            draw(key, data).savefig(path, dpi=110)
            paths.append(path)
    return paths


def drawers() -> dict[str, Drawer]:
    """Each chart's drawing function by its key (the HTML section id), in page order."""
    return {
        "top_genres": _top_genres,
        "top_artists": _top_artists,
        "top_songs": _top_songs,
        "countries": _countries,
        "listening_per_user": _listening,
        **static_listeners.DRAWERS,
        "data_quality": _quality,
    }


def draw(key: str, data: ReportData) -> Figure:
    """The chart ``key`` as a matplotlib figure; call inside ``pngstyle.png_style()``."""
    fig = Figure(figsize=_SIZE, layout="constrained")
    drawers()[key](fig, data)
    if not any(ax.has_data() for ax in fig.axes):
        fig.text(0.5, 0.5, "No data for this period", ha="center", va="center")
    return fig


def _lines(
    ax: Axes, rows: list[Row], colors: dict[str, str], y: Callable[[Row], float], **style: Any
) -> None:
    for genre, series in by_key(rows, "genre"):
        days = [r["report_date"] for r in series]
        color = color_of(colors, genre)
        ax.plot(days, [y(r) for r in series], label=short(genre), color=color, **style)


def _top_genres(fig: Figure, data: ReportData) -> None:
    ax = fig.add_subplot()
    ax.set_title("Top genres over time")
    _lines(ax, data.top_genres, data.colors, lambda r: r["listen_count"], marker="o")
    ax.set_ylabel("plays per day")
    pngstyle.counts(ax.yaxis)
    pngstyle.dates(ax)
    pngstyle.legend_outside(fig, ax)


def _top_artists(fig: Figure, data: ReportData) -> None:
    ax = fig.add_subplot()
    ax.set_title("Top artists of the period")
    rows = data.artists
    ax.barh([f"{r['rank']}. {short(r['artist'])}" for r in rows], [r["listen_count"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("plays")
    pngstyle.counts(ax.xaxis)


def _top_songs(fig: Figure, data: ReportData) -> None:
    """The top songs of the five busiest genres of the latest day (the HTML has them all),
    coloured by genre."""
    ax = fig.add_subplot()
    genres = by_key(data.songs, "genre")[:5]
    ax.set_title(
        f"Top songs per genre on {data.songs[0]['report_date']}" if genres else "Top songs"
    )
    for genre, songs in genres:
        names = [short(f"{r['rank']}. {r['track_name']} — {r['artists']}") for r in songs]
        color = color_of(data.colors, genre)
        ax.barh(names, [r["listen_count"] for r in songs], label=short(genre), color=color)
    ax.invert_yaxis()
    ax.set_xlabel("plays")
    pngstyle.counts(ax.xaxis)
    pngstyle.legend_outside(fig, ax)


def _countries(fig: Figure, data: ReportData) -> None:
    """Plays (top) and average daily listeners (bottom) per country: two panels."""
    rows = data.countries[:TOP_COUNTRIES]
    if not rows:
        fig.add_subplot().set_title("Plays and listeners per country")
        return
    plays, listeners = fig.subplots(2, 1, sharex=True)
    fig.suptitle("Plays and listeners per country")
    names = [short(r["country"], 18) for r in rows]
    plays.bar(names, [r["listen_count"] for r in rows])
    plays.set_ylabel("plays")
    pngstyle.counts(plays.yaxis)
    listeners.bar(names, [r["avg_daily_listeners"] for r in rows], color="#6b6ecf")
    listeners.set_ylabel("avg daily listeners")
    pngstyle.decimals(listeners.yaxis)
    listeners.tick_params(axis="x", labelrotation=45)
    for tick in listeners.get_xticklabels():
        tick.set_horizontalalignment("right")


def _listening(fig: Figure, data: ReportData) -> None:
    ax = fig.add_subplot()
    ax.set_title("Listening time per listener")
    rows = data.engagement
    days = [r["report_date"] for r in rows]
    minutes = [r["avg_listening_ms_per_user"] / MS_PER_MINUTE for r in rows]
    ax.plot(days, minutes, color=TOTAL, linewidth=3, label="all listeners")
    _lines(ax, data.genres, data.colors, _minutes_per_user, ls=":", marker="o")
    ax.set_ylabel("minutes per listener per day")
    pngstyle.decimals(ax.yaxis)
    pngstyle.dates(ax)
    pngstyle.legend_outside(fig, ax)


def _minutes_per_user(row: Row) -> float:
    return float(row["avg_listening_ms_per_user"]) / MS_PER_MINUTE


def _quality(fig: Figure, data: ReportData) -> None:
    """Rates per dataset (columns) and reason (rows), the % written in each cell."""
    ax = fig.add_subplot()
    ax.set_title("Data quality: % of each dataset's rows read")
    if not data.quality:
        return
    rates = quality_rates(data.quality)
    grid = [[rates.rate(d, r) for d in rates.datasets] for r in rates.reasons]
    values = [[float("nan") if v is None else 100 * v for v in row] for row in grid]
    image = ax.imshow(values, cmap="Reds", vmin=0, aspect="auto")
    for y, row in enumerate(grid):
        for x, v in enumerate(row):
            if v is not None:
                dark = v * 100 > 0.6 * max(image.get_clim()[1], 1e-9)
                color = "white" if dark else "black"
                ax.text(x, y, f"{100 * v:.1f}%", ha="center", va="center", color=color)
    ax.set_xticks(range(len(rates.datasets)), [short(d) for d in rates.datasets])
    ax.set_yticks(range(len(rates.reasons)), [short(r, 44) for r in rates.labels])
    ax.xaxis.tick_top()
    fig.colorbar(image, ax=ax, label="% of rows read", format="{x:,.0f}%")
