"""The HTML report: self-contained, every chart present with the fixture's numbers; PNGs."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from musicstream.report.build import SECTIONS, write_report
from musicstream.report.lakeio import LakeDataMissing, ReportError
from musicstream.report.page import Section, render_page

FIGURE = re.compile(r"var fig = (\{.*?\});\nPlotly\.newPlot\(\"(\w+)\"", re.S)


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def figures(page: str) -> dict[str, dict[str, Any]]:
    return {key: json.loads(body) for body, key in FIGURE.findall(page)}


def traces(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t.get("name", ""): t for t in figure["data"]}


@pytest.fixture(scope="module")
def page(report_files: tuple[Path, Path]) -> str:
    return report_files[0].read_text(encoding="utf-8")


def test_report_is_self_contained(page: str) -> None:
    parser = Tags()
    parser.feed(page)
    references = [
        (tag, name, value)
        for tag, attrs in parser.tags
        for name, value in attrs.items()
        if name in ("src", "href", "srcset", "data", "action", "poster")
    ]
    assert references == []
    assert [tag for tag, _ in parser.tags if tag in ("link", "iframe", "img", "object")] == []
    bundle = get_plotlyjs()
    assert page.count(bundle) == 1  # plotly.js inline, once
    rest = page.replace(bundle, "")
    assert not re.search(r"https?:|//cdn|url\(", rest)


def test_report_contains_every_chart(page: str) -> None:
    charts = figures(page)
    assert list(charts) == [s.key for s in SECTIONS]
    for section in SECTIONS:
        assert f'<div class="chart" id="{section.key}"></div>' in page
        assert f"<h2>{section.title}</h2>" in page


def test_charts_show_the_lake_numbers(page: str) -> None:
    charts = figures(page)
    assert set(traces(charts["top_genres"])) == {"rock", "pop", "jazz"}
    assert traces(charts["top_genres"])["pop"]["y"] == [2, 3, 5]
    artists = charts["top_artists"]["data"][0]
    assert artists["x"] == [9, 7, 5, 2, 2]
    assert artists["y"][:2] == ["1. Gamma", "2. Alpha"]
    songs = charts["top_songs"]
    assert [t["visible"] for t in songs["data"]] == [True, False, False]
    assert [b["label"] for b in songs["layout"]["updatemenus"][0]["buttons"]] == [
        "pop",
        "jazz",
        "folk",
    ]
    assert songs["data"][0]["y"] == ["1. Song Three — Gamma", "2. Song Five — Beta"]
    countries = traces(charts["countries"])
    assert countries["plays"]["x"] == ["DE", "US", "Unknown"]
    assert countries["plays"]["y"] == [9, 7, 3]
    listening = traces(charts["listening_per_user"])["all listeners"]["y"]
    assert listening == pytest.approx([400_000 / 60_000, 325_000 / 60_000, 300_000 / 60_000])
    quality = traces(charts["data_quality"])
    assert quality["kept"]["y"] == [17, 4, 8]
    assert quality["quarantined"]["y"] == [2, 1, 3]
    assert quality["warned (kept anyway)"]["y"] == [3, 0, 0]
    assert quality["streams: unknown_track"]["y"] == [0, 0, 2]


def test_summary_cards(page: str) -> None:
    assert "<b>19</b><span>plays</span>" in page
    assert "<b>3</b><span>days with data</span>" in page
    assert "<b>6</b><span>rows quarantined</span>" in page
    assert "2026-01-05 to 2026-01-12" in page


def test_png_per_chart(report_files: tuple[Path, Path]) -> None:
    _, png_dir = report_files
    assert sorted(p.stem for p in png_dir.glob("*.png")) == sorted(s.key for s in SECTIONS)
    for png in png_dir.glob("*.png"):
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert png.stat().st_size > 10_000


def test_period_and_missing_optional_table(kpi_lake: str, tmp_path: Path) -> None:
    copy = tmp_path / "lake"
    shutil.copytree(kpi_lake, copy)
    shutil.rmtree(copy / "kpis" / "batch_quality")
    out = write_report(str(copy), tmp_path / "r.html", date(2026, 1, 6), date(2026, 1, 6))
    page = out.read_text(encoding="utf-8")
    assert "2026-01-06 to 2026-01-06" in page
    charts = figures(page)
    assert charts["data_quality"]["data"] == []
    assert charts["data_quality"]["layout"]["annotations"][0]["text"] == "No data for this period"
    assert traces(charts["top_genres"])["pop"]["y"] == [3]


def test_no_data_is_a_clear_error(kpi_lake: str, tmp_path: Path) -> None:
    with pytest.raises(LakeDataMissing, match="no genre_daily data"):
        write_report(str(tmp_path), tmp_path / "r.html")
    with pytest.raises(ReportError, match="no KPI data"):
        write_report(kpi_lake, tmp_path / "r.html", date(2030, 1, 1))
    assert not (tmp_path / "r.html").exists()


def test_hostile_text_cannot_break_out_of_the_page() -> None:
    evil = "</script><script>alert(1)</script>"
    figure = go.Figure(go.Bar(x=[1], y=[evil], name=evil))
    page = render_page(evil, evil, [(evil, evil)], [(Section("k", evil, evil), figure)])
    assert "<script>alert(1)" not in page
    assert json.loads(FIGURE.findall(page)[0][0])["data"][0]["name"] == evil


def test_pngs_survive_hostile_names_and_empty_data(tmp_path: Path) -> None:
    from musicstream.report.data import ReportData
    from musicstream.report.static import write_pngs

    evil, day = "$^$ <b>x</b> \\frac{ $", date(2026, 1, 5)
    plays = {"report_date": day, "listen_count": 1, "avg_listening_ms_per_user": 60_000.0}
    data = ReportData(
        top_genres=[plays | {"genre": evil}],
        genres=[plays | {"genre": evil}],
        artists=[{"rank": 1, "artist": evil, "listen_count": 1}],
        songs=[plays | {"genre": evil, "rank": 1, "track_name": evil}],
        countries=[{"country": evil, "listen_count": 1, "avg_daily_listeners": 1.0}],
        engagement=[plays],
        quality=[
            {"batch_id": "b", "dataset": evil, "reason": evil, "outcome": "quarantined", "rows": 1}
        ],
    )
    assert len(write_pngs(data, tmp_path / "evil")) == len(SECTIONS)
    empty = ReportData([], [], [], [], [], [], [])
    assert len(write_pngs(empty, tmp_path / "empty")) == len(SECTIONS)
