"""PNG versions of the listener-insight charts: the matplotlib twins of ``listener_charts``,
drawn from the same shaped data (``listeners``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from musicstream.report import listeners, pngstyle
from musicstream.report.palette import NEW_COLOR, PERIOD_COLORS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from musicstream.report.charts import Row
    from musicstream.report.data import ReportData


def _hourly(fig: Figure, data: ReportData) -> None:
    """Plays per weekday (rows, Monday on top) and UTC hour (columns)."""
    ax = fig.add_subplot()
    ax.set_title("When people listen: plays per weekday and hour (UTC)")
    if not data.hourly:
        return
    image = ax.imshow(listeners.weekday_hour(data.hourly), cmap="Blues", vmin=0, aspect="auto")
    ax.set_xticks(list(listeners.HOURS), [f"{h:02d}" for h in listeners.HOURS], fontsize=8)
    ax.set_yticks(range(len(listeners.WEEKDAYS)), listeners.WEEKDAYS)
    ax.set_xlabel("hour of day (UTC)")
    bar = fig.colorbar(image, ax=ax, label="plays")
    pngstyle.counts(bar.ax.yaxis)


def _active(fig: Figure, data: ReportData) -> None:
    """DAU line and WAU/MAU steps over their periods (top); new listeners per day (bottom)."""
    if not data.active:
        fig.add_subplot().set_title("Active listeners")
        return
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    top.set_title("Active listeners")
    periods = listeners.by_period(data.active)
    for period, rows in periods.items():
        _period_line(top, period, rows)
    top.set_ylabel("listeners")
    top.set_ylim(bottom=0)
    days = periods.get("day", [])
    starts = [r["period_start"] for r in days]
    bottom.bar(starts, [r["new_listeners"] for r in days], color=NEW_COLOR, label="new per day")
    bottom.set_ylabel("new listeners")
    for ax in (top, bottom):
        pngstyle.counts(ax.yaxis)
    pngstyle.dates(bottom)
    pngstyle.legend_outside(fig, top)


def _period_line(ax: Axes, period: str, rows: list[Row]) -> None:
    name = listeners.PERIOD_NAMES.get(period, period)
    color = PERIOD_COLORS.get(period, "#7f7f7f")
    if period == "day":
        starts = [r["period_start"] for r in rows]
        ax.plot(starts, [r["listeners"] for r in rows], "o-", color=color, lw=2, label=name)
        return
    ends = [r["period_end"] + timedelta(days=1) for r in rows]
    values = [r["listeners"] for r in rows]
    starts = [r["period_start"] for r in rows]
    ax.hlines(values, starts, ends, colors=color, lw=3, label=name)


def _activity(fig: Figure, data: ReportData) -> None:
    """User-days per number of streams (bins double in width when the tail is long)."""
    ax = fig.add_subplot()
    ax.set_title("Streams per listener and day")
    bins = listeners.activity_bins(data.activity)
    if not bins:
        return
    ax.bar([b for b, _ in bins], [n for _, n in bins])
    scale = "doubling bins" if listeners.is_log_binned(bins) else "one bin per count"
    ax.set_xlabel(f"streams per active user-day ({scale})")
    ax.set_ylabel("user-days")
    pngstyle.counts(ax.yaxis)
    if len(bins) > 16:
        ax.tick_params(axis="x", labelrotation=45)


DRAWERS: dict[str, Callable[[Figure, ReportData], None]] = {
    "hourly_activity": _hourly,
    "active_listeners": _active,
    "listener_activity": _activity,
}
