"""Interactive report charts (plotly), one builder per chart, each from query result rows.

Rows are plain dicts (``pyarrow.Table.to_pylist()``), so no dataframe library is needed.
Labels built from data go through ``label()``: plotly renders a subset of HTML in text, and
a song named ``<a href=…>`` must show as text, not become a link.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from musicstream.report.palette import TOTAL, color_of
from musicstream.report.rates import quality_rates

Row = dict[str, Any]
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
TOP_COUNTRIES = 20
LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 440,
    "margin": {"l": 60, "r": 30, "t": 40, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
}


def count_axis(values: Iterable[float]) -> dict[str, Any]:
    """Axis settings for a count: thousands separators, and whole-number ticks even when
    the counts are small (plotly would tick 0.5 steps, shown rounded as 0, 1, 1)."""
    small = max(values, default=0) < 5
    return {"tickformat": ",d", "rangemode": "tozero"} | ({"dtick": 1} if small else {})


def label(value: object) -> str:
    """Data text made safe for plotly's HTML-ish labels."""
    return html.escape("" if value is None else str(value), quote=False)


def base_figure(rows: Iterable[Row], **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**(LAYOUT | layout))
    if not list(rows):
        fig.add_annotation(text="No data for this period", showarrow=False, font={"size": 16})
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    return fig


def by_key(rows: Iterable[Row], key: str) -> list[tuple[Any, list[Row]]]:
    """Rows grouped by a key, groups in order of first appearance, rows in their order."""
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return list(groups.items())


def top_genres(rows: list[Row], colors: dict[str, str]) -> go.Figure:
    """Daily plays of the genres that made the top-genres list: one line per genre."""
    plays = count_axis(r["listen_count"] for r in rows)
    fig = base_figure(rows, yaxis_title="plays per day", yaxis=plays, hovermode="x unified")
    for genre, series in by_key(rows, "genre"):
        fig.add_scatter(
            x=[r["report_date"] for r in series],
            y=[r["listen_count"] for r in series],
            name=label(genre),
            mode="lines+markers",
            line={"color": color_of(colors, genre)},
        )
    return fig


def top_artists(rows: list[Row]) -> go.Figure:
    """Top artists over the period: horizontal bars of plays, rank 1 at the top."""
    axis = {"autorange": "reversed", "automargin": True}
    plays = count_axis(r["listen_count"] for r in rows)
    fig = base_figure(rows, xaxis_title="plays", xaxis=plays, yaxis=axis, showlegend=False)
    if rows:
        fig.add_bar(
            x=[r["listen_count"] for r in rows],
            y=[f"{r['rank']}. {label(r['artist'])}" for r in rows],
            orientation="h",
            customdata=[[r["total_listening_ms"] / MS_PER_HOUR, r["tracks"]] for r in rows],
            hovertemplate="%{y}: %{x} plays, %{customdata[0]:.1f} h, %{customdata[1]} tracks"
            "<extra></extra>",
        )
    return fig


def top_songs(rows: list[Row], colors: dict[str, str]) -> go.Figure:
    """Top songs per genre on the latest day; a dropdown picks the genre (busiest first)."""
    day = rows[0]["report_date"] if rows else None
    plays = count_axis(r["listen_count"] for r in rows)
    fig = base_figure(rows, xaxis_title=f"plays on {day}", xaxis=plays, showlegend=False)
    fig.update_layout(margin={"t": 80}, yaxis={"autorange": "reversed", "automargin": True})
    groups = by_key(rows, "genre")
    for i, (genre, songs) in enumerate(groups):
        fig.add_bar(
            marker_color=color_of(colors, genre),
            x=[r["listen_count"] for r in songs],
            y=[f"{r['rank']}. {label(r['track_name'])} — {label(r['artists'])}" for r in songs],
            orientation="h",
            visible=i == 0,
            hovertemplate="%{y}: %{x} plays<extra></extra>",
        )
    n = len(groups)
    buttons = [
        {"label": label(g), "method": "update", "args": [{"visible": [j == i for j in range(n)]}]}
        for i, (g, _) in enumerate(groups)
    ]
    if buttons:
        menu = {"buttons": buttons, "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"}
        fig.update_layout(updatemenus=[menu])
    return fig


def countries(rows: list[Row]) -> go.Figure:
    """Plays (top) and average daily listeners (bottom) per country, busiest first: two
    panels on one country axis, each with its own scale and no second y-axis."""
    shown = rows[:TOP_COUNTRIES]
    if not shown:
        return base_figure(shown)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    fig.update_layout(**(LAYOUT | {"height": 560, "showlegend": False}))
    names = [label(r["country"]) for r in shown]
    fig.add_bar(x=names, y=[r["listen_count"] for r in shown], name="plays", row=1, col=1)
    fig.add_bar(
        x=names,
        y=[r["avg_daily_listeners"] for r in shown],
        name="avg daily listeners",
        marker_color="#6b6ecf",
        row=2,
        col=1,
    )
    plays = count_axis(r["listen_count"] for r in shown)
    fig.update_yaxes(title_text="plays", **plays, row=1, col=1)
    fig.update_yaxes(title_text="avg daily listeners", tickformat=",.3~f", row=2, col=1)
    fig.update_xaxes(type="category", tickangle=-45)
    return fig


def listening_per_user(
    engagement: list[Row], genres: list[Row], colors: dict[str, str]
) -> go.Figure:
    """Minutes listened per listener and day: all listeners, and within each top genre."""
    fig = base_figure(engagement, yaxis_title="minutes per listener per day", hovermode="x unified")
    if not engagement:
        return fig
    fig.add_scatter(
        x=[r["report_date"] for r in engagement],
        y=[r["avg_listening_ms_per_user"] / MS_PER_MINUTE for r in engagement],
        name="all listeners",
        line={"width": 4, "color": TOTAL},
    )
    for genre, series in by_key(genres, "genre"):
        fig.add_scatter(
            x=[r["report_date"] for r in series],
            y=[r["avg_listening_ms_per_user"] / MS_PER_MINUTE for r in series],
            name=label(genre),
            mode="lines+markers",  # a genre on one day only is a marker, not nothing
            line={"dash": "dot", "color": color_of(colors, genre)},
        )
    return fig


def quality(rows: list[Row]) -> go.Figure:
    """Quality rates as a dataset x reason heatmap: the share of each dataset's rows read
    that each reason quarantined (or warned about), the count in the hover."""
    if not rows:
        return base_figure(rows)
    rates = quality_rates(rows)
    fig = base_figure(rows, height=max(320, 120 + 34 * len(rates.reasons)))
    z = [[_percent(rates.rate(d, r)) for d in rates.datasets] for r in rates.reasons]
    fig.add_heatmap(
        x=rates.datasets,
        y=[label(r) for r in rates.labels],
        z=z,
        text=[["" if v is None else f"{v:.1f}%" for v in row] for row in z],
        customdata=[[rates.detail(d, r) for d in rates.datasets] for r in rates.reasons],
        texttemplate="%{text}",
        hovertemplate="%{x} · %{y}: %{z:.2f}% (%{customdata})<extra></extra>",
        colorscale="Reds",
        zmin=0,
        colorbar={"title": {"text": "% of rows read"}},
        xgap=2,
        ygap=2,
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(side="top")
    return fig


def _percent(rate: float | None) -> float | None:
    return None if rate is None else 100 * rate
