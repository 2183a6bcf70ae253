"""The report's HTML page: one self-contained file that works opened from disk, offline.

plotly.js is inlined in the page head and each chart is a ``Plotly.newPlot`` call on its
figure's JSON, so the file references nothing outside itself. Every data-derived string is
escaped for its context: HTML text with ``html.escape``, JSON inside ``<script>`` with ``<``
written as ``\\u003c`` so no value can close the script element.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

_CONFIG = '{"displaylogo": false, "responsive": true}'
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       background: #f6f7f9; color: #1d2433; }
header { background: #1d2433; color: #fff; padding: 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; opacity: .8; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 40px 48px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 12px; }
.card { background: #fff; border-radius: 8px; padding: 12px 18px; min-width: 140px;
        box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card b { display: block; font-size: 22px; }
.card span { font-size: 13px; opacity: .7; }
section { background: #fff; border-radius: 8px; margin-top: 20px; padding: 16px 20px;
          box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section h2 { margin: 0 0 4px; font-size: 19px; }
section p { margin: 0 0 8px; font-size: 14px; opacity: .75; }
.chart { width: 100%; min-height: 440px; }
"""


@dataclass(frozen=True)
class Section:
    """One chart of the report: its element id (also the PNG name), title and caption."""

    key: str
    title: str
    caption: str


def render_page(
    title: str,
    subtitle: str,
    cards: list[tuple[str, str]],
    charts: list[tuple[Section, go.Figure]],
) -> str:
    """The full HTML document: header, summary cards (value, label), then the charts."""
    card_html = "".join(
        f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
        for v, k in cards
    )
    body = "\n".join(_section(section, figure) for section, figure in charts)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n</head>\n<body>\n'
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>\n"
        f'<main>\n<div class="cards">{card_html}</div>\n{body}\n</main>\n</body>\n</html>\n'
    )


def _section(section: Section, figure: go.Figure) -> str:
    key = html.escape(section.key)
    figure_json = figure.to_json().replace("<", "\\u003c")
    return (
        f'<section id="section-{key}">\n<h2>{html.escape(section.title)}</h2>\n'
        f"<p>{html.escape(section.caption)}</p>\n"
        f'<div class="chart" id="{key}"></div>\n'
        f"<script>(function () {{ var fig = {figure_json};\n"
        f'Plotly.newPlot("{key}", fig.data, fig.layout, {_CONFIG}); }})();</script>\n'
        "</section>"
    )
