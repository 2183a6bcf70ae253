"""How the PNG charts look: fonts that draw every name, readable axes, legends outside.

Names come from the data in any script. matplotlib's own DejaVu Sans draws Latin, Greek and
Cyrillic; CJK names fall back, glyph by glyph, to the first installed family of
``CJK_FAMILIES`` (Debian: ``fonts-noto-cjk`` or ``fonts-wqy-microhei``). Only installed
families are named, so matplotlib never logs "font family not found"; a glyph no installed
font has (an emoji, say) is drawn as a box and its warning is not printed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING

import matplotlib as mpl
from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

SANS = "DejaVu Sans"  # ships with matplotlib: always there
CJK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Source Han Sans JP",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
)
LABEL_CHARS = 34  # longer category labels are cut with "…"


@cache
def font_families() -> tuple[str, ...]:
    """DejaVu Sans, then every installed CJK family of the fallback list, in its order.

    matplotlib caches its font list once per machine, so a CJK font installed after that
    is unknown to it: when no listed family is known, the system's font files it has not
    seen are added (once per process).
    """
    manager = font_manager.fontManager
    if not set(CJK_FAMILIES) & set(manager.get_font_names()):
        known = {f.fname for f in manager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in known:
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # unreadable or not a font
                    continue
    installed = set(manager.get_font_names())
    return (SANS, *(f for f in CJK_FAMILIES if f in installed))


@contextmanager
def png_style() -> Iterator[None]:
    """Draw and save charts inside this block: the font fallback list, and no glyph warning.

    Both are scoped to the block (``rc_context``, ``catch_warnings``), not set globally.
    """
    with (
        mpl.rc_context({"font.family": list(font_families())}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from", UserWarning)
        yield


def short(value: object, limit: int = LABEL_CHARS) -> str:
    """A label cut to ``limit`` characters, ``$`` escaped so it is not read as mathtext."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("$", r"\$")


def counts(axis: Axis) -> None:
    """A count axis: whole numbers only, with thousands separators."""
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def decimals(axis: Axis) -> None:
    """An axis of averages: thousands separators, up to two decimals."""
    axis.set_major_formatter(StrMethodFormatter("{x:,.2f}"))


def dates(ax: Axes) -> None:
    """A date x-axis with a handful of ticks whatever the period's length, labelled
    concisely (the year once, not on every tick), so the labels never overlap."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def legend_outside(fig: Figure, ax: Axes) -> None:
    """The axes' legend to the right of the plot, never over the data."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize=8)
