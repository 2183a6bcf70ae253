"""Interactive report charts (plotly), one builder per chart, each from query result rows.

Rows are plain dicts (``pyarrow.Table.to_pylist()``), so no dataframe library is needed.
Labels built from data go through ``label()``: plotly renders a subset of HTML in text, and
a song named ``<a href=…>`` must show as text, not become a link.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

Row = dict[str, Any]
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
TOP_COUNTRIES = 20
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "height": 440,
    "margin": {"l": 60, "r": 30, "t": 40, "b": 60},
    "legend": {"orientation": "h", "y": -0.2},
}


def label(value: object) -> str:
    """Data text made safe for plotly's HTML-ish labels."""
    return html.escape("" if value is None else str(value), quote=False)


def _figure(rows: Iterable[Row], **layout: Any) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(**(_LAYOUT | layout))
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


def top_genres(rows: list[Row]) -> go.Figure:
    """Daily plays of the genres that made the top-genres list: one line per genre."""
    fig = _figure(rows, yaxis_title="plays per day", hovermode="x unified")
    for genre, series in by_key(rows, "genre"):
        fig.add_scatter(
            x=[r["report_date"] for r in series],
            y=[r["listen_count"] for r in series],
            name=label(genre),
            mode="lines+markers",
        )
    return fig


def top_artists(rows: list[Row]) -> go.Figure:
    """Top artists over the period: horizontal bars of plays, rank 1 at the top."""
    axis = {"autorange": "reversed", "automargin": True}
    fig = _figure(rows, xaxis_title="plays", yaxis=axis, showlegend=False)
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


def top_songs(rows: list[Row]) -> go.Figure:
    """Top songs per genre on the latest day; a dropdown picks the genre (busiest first)."""
    day = rows[0]["report_date"] if rows else None
    fig = _figure(rows, xaxis_title=f"plays on {day}", showlegend=False)
    fig.update_layout(margin={"t": 80}, yaxis={"autorange": "reversed", "automargin": True})
    groups = by_key(rows, "genre")
    for i, (_genre, songs) in enumerate(groups):
        fig.add_bar(
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
    """Plays (bars) and average daily listeners (markers) per country, busiest first."""
    shown = rows[:TOP_COUNTRIES]
    if not shown:
        return _figure(shown)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.update_layout(**(_LAYOUT | {"hovermode": "x unified"}))
    names = [label(r["country"]) for r in shown]
    fig.add_bar(x=names, y=[r["listen_count"] for r in shown], name="plays")
    fig.add_scatter(
        x=names,
        y=[r["avg_daily_listeners"] for r in shown],
        name="avg daily listeners",
        mode="markers",
        marker={"size": 11, "symbol": "diamond"},
        secondary_y=True,
    )
    fig.update_yaxes(title_text="plays", secondary_y=False)
    fig.update_yaxes(
        title_text="avg daily listeners", secondary_y=True, rangemode="tozero", showgrid=False
    )
    return fig


def listening_per_user(engagement: list[Row], genres: list[Row]) -> go.Figure:
    """Minutes listened per listener and day: all listeners, and within each top genre."""
    fig = _figure(engagement, yaxis_title="minutes per listener per day", hovermode="x unified")
    if not engagement:
        return fig
    fig.add_scatter(
        x=[r["report_date"] for r in engagement],
        y=[r["avg_listening_ms_per_user"] / MS_PER_MINUTE for r in engagement],
        name="all listeners",
        line={"width": 4, "color": "#222"},
    )
    for genre, series in by_key(genres, "genre"):
        fig.add_scatter(
            x=[r["report_date"] for r in series],
            y=[r["avg_listening_ms_per_user"] / MS_PER_MINUTE for r in series],
            name=label(genre),
            line={"dash": "dot"},
        )
    return fig


OUTCOME_COLORS = {"kept": "#2ca02c", "quarantined": "#d62728", "warning": "#ff7f0e"}
WARNED = "warned (kept anyway)"


@dataclass(frozen=True)
class QualitySeries:
    """The data-quality panel per batch: rows per outcome, quarantined rows per cause."""

    batches: list[str]
    outcomes: dict[str, list[int]]
    causes: list[tuple[str, list[int]]]


def quality_series(rows: list[Row]) -> QualitySeries:
    """Sum quality_by_batch rows per batch; causes are "dataset: reason" of quarantined rows."""
    batches = sorted({r["batch_id"] for r in rows})
    outcomes = {
        o: per_batch([r for r in rows if r["outcome"] == o], batches) for o in OUTCOME_COLORS
    }
    quarantined = [
        r | {"cause": f"{r['dataset']}: {r['reason']}"}
        for r in rows
        if r["outcome"] == "quarantined"
    ]
    groups = sorted(by_key(quarantined, "cause"), key=lambda g: g[0])
    return QualitySeries(batches, outcomes, [(c, per_batch(g, batches)) for c, g in groups])


def quality(rows: list[Row]) -> go.Figure:
    """Per batch: rows kept vs quarantined, stacked, with warned rows as markers (top);
    quarantined rows by cause (bottom). Warned rows were kept, so they are not stacked."""
    if not rows:
        return _figure(rows)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    fig.update_layout(**(_LAYOUT | {"height": 620, "barmode": "stack"}))
    series = quality_series(rows)
    x = series.batches
    for outcome in ("kept", "quarantined"):
        color = OUTCOME_COLORS[outcome]
        fig.add_bar(x=x, y=series.outcomes[outcome], name=outcome, marker_color=color, row=1, col=1)
    marker = {"symbol": "x", "size": 12, "color": OUTCOME_COLORS["warning"]}
    warned = series.outcomes["warning"]
    fig.add_scatter(x=x, y=warned, name=WARNED, mode="markers", marker=marker, row=1, col=1)
    for cause, counts in series.causes:
        fig.add_bar(x=x, y=counts, name=label(cause), row=2, col=1)
    fig.update_yaxes(title_text="rows", row=1, col=1)
    fig.update_yaxes(title_text="quarantined rows", row=2, col=1)
    fig.update_xaxes(type="category")
    return fig


def per_batch(rows: list[Row], batches: list[str]) -> list[int]:
    """Sum of ``rows`` per batch id, in the order of ``batches`` (0 where absent)."""
    totals = dict.fromkeys(batches, 0)
    for r in rows:
        totals[r["batch_id"]] += r["rows"]
    return [totals[b] for b in batches]
