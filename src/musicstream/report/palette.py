"""One genre -> colour map per report, shared by the HTML charts and the PNGs.

Colours follow the genre, not the position of a series in a chart, so "pop" has the same
colour in every chart of a report. The map is a pure function of the genres the report
shows: the featured genres (those drawn as series) first, then the others, each group
sorted by name, take the palette's colours in order; genres beyond the palette share
``OTHER``. The same data therefore always gives the same colours.
"""

from __future__ import annotations

from collections.abc import Iterable

# matplotlib's tab10 without its grey, then the darker tab20b hues: 18 colours that stay
# apart from each other on white, and from the grey of OTHER and the near-black of totals.
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#6b6ecf",
    "#b5cf6b",
    "#e7ba52",
    "#d6616b",
)
OTHER = "#9e9e9e"
TOTAL = "#222222"  # a series over all genres ("all listeners")
# Active listeners: one colour per period kind, and the new-listener bars.
PERIOD_COLORS = {"day": "#1f77b4", "week": "#ff7f0e", "month": "#2ca02c"}
NEW_COLOR = "#9467bd"


def genre_colors(featured: Iterable[str], others: Iterable[str] = ()) -> dict[str, str]:
    """Colour of every genre named: featured genres first, each group sorted by name."""
    first = sorted(set(featured))
    rest = sorted(set(others) - set(first))
    ordered = first + rest
    return {g: PALETTE[i] if i < len(PALETTE) else OTHER for i, g in enumerate(ordered)}


def color_of(colors: dict[str, str], genre: str | None) -> str:
    """A genre's colour in ``colors``; OTHER for a genre the map does not name."""
    return colors.get(genre or "", OTHER)
