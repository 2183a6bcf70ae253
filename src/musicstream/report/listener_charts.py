"""Interactive listener-insight charts (plotly): when people listen, how many listen, and
how much each listener listens in a day. Data shaped by ``listeners``."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from musicstream.report import listeners
from musicstream.report.charts import LAYOUT, Row, base_figure, count_axis
from musicstream.report.palette import NEW_COLOR, PERIOD_COLORS


def hourly_heatmap(rows: list[Row]) -> go.Figure:
    """Plays per weekday and UTC hour over the period, Monday at the top."""
    fig = base_figure(rows, xaxis_title="hour of day (UTC)")
    if not rows:
        return fig
    fig.add_heatmap(
        x=list(listeners.HOURS),
        y=list(listeners.WEEKDAYS),
        z=listeners.weekday_hour(rows),
        colorscale="Blues",
        zmin=0,
        colorbar={"title": {"text": "plays"}, "tickformat": ",d"},
        hovertemplate="%{y} %{x}:00-%{x}:59 UTC: %{z:,} plays<extra></extra>",
        xgap=1,
        ygap=1,
    )
    fig.update_xaxes(dtick=1, tickmode="linear")
    fig.update_yaxes(autorange="reversed")
    return fig


def active_listeners(rows: list[Row]) -> go.Figure:
    """DAU as a line, WAU and MAU as steps over their periods (top); new listeners per day
    as bars (bottom). Two panels share the date axis; neither has a second y-axis."""
    if not rows:
        return base_figure(rows)
    periods = listeners.by_period(rows)
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.65, 0.35]
    )
    fig.update_layout(**(LAYOUT | {"height": 560, "hovermode": "x unified"}))
    for period, series in periods.items():
        name = listeners.PERIOD_NAMES.get(period, period)
        style = {"color": PERIOD_COLORS.get(period, "#7f7f7f"), "width": 3}
        if period == "day":
            x, y = [r["period_start"] for r in series], [r["listeners"] for r in series]
            fig.add_scatter(x=x, y=y, name=name, mode="lines+markers", line=style, row=1, col=1)
        else:
            x, y = listeners.steps(series, "listeners")
            fig.add_scatter(x=x, y=y, name=name, mode="lines", line=style, row=1, col=1)
    days = periods.get("day", [])
    fig.add_bar(
        x=[r["period_start"] for r in days],
        y=[r["new_listeners"] for r in days],
        name="new listeners per day",
        marker_color=NEW_COLOR,
        row=2,
        col=1,
    )
    users = count_axis(r["listeners"] for r in rows)
    fig.update_yaxes(title_text="listeners", **users, row=1, col=1)
    new = count_axis(r["new_listeners"] for r in days)
    fig.update_yaxes(title_text="new listeners", **new, row=2, col=1)
    return fig


def activity(rows: list[Row]) -> go.Figure:
    """How many streams a listener plays on a day they listen: user-days per bin."""
    bins = listeners.activity_bins(rows)
    scale = "doubling bins" if listeners.is_log_binned(bins) else "one bin per count"
    fig = base_figure(
        rows if bins else [], xaxis_title=f"streams per active user-day ({scale})", showlegend=False
    )
    if bins:
        fig.add_bar(
            x=[b for b, _ in bins],
            y=[n for _, n in bins],
            name="user-days",
            hovertemplate="%{x} streams: %{y:,} user-days<extra></extra>",
        )
        fig.update_xaxes(type="category")
        fig.update_yaxes(title_text="user-days", **count_axis(n for _, n in bins))
    return fig
