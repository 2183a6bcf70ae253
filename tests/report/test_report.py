"""The HTML report: self-contained, every chart present with the fixture's numbers; PNGs."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
import pytest
from matplotlib.colors import to_hex
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from plotly.offline import get_plotlyjs

from musicstream.report.build import SECTIONS, write_report
from musicstream.report.data import ReportData, load_data
from musicstream.report.lakeio import LakeDataMissing, ReportError
from musicstream.report.listeners import activity_bins, is_log_binned
from musicstream.report.page import Section, render_page
from musicstream.report.palette import OTHER, PALETTE, genre_colors
from musicstream.report.pngstyle import CJK_FAMILIES, font_families, png_style
from musicstream.report.queries import Params
from musicstream.report.rates import ANY, quality_rates
from musicstream.report.static import draw, write_pngs

from . import conftest

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
    # listeners in a panel of their own, not on a second y-axis: (2 + 2 + 0) / 3 days, …
    assert countries["avg daily listeners"]["y"] == pytest.approx([4 / 3, 1, 1 / 3])
    assert countries["avg daily listeners"]["yaxis"] == "y2"
    assert "overlaying" not in charts["countries"]["layout"]["yaxis2"]
    listening = traces(charts["listening_per_user"])["all listeners"]["y"]
    assert listening == pytest.approx([400_000 / 60_000, 325_000 / 60_000, 300_000 / 60_000])


# streams read over the three batches: kept 7 + 4 + 8 = 19, quarantined 2 + 1 + 3 = 6 -> 25
QUALITY_RATES = {
    "quarantined (any reason)": [0.0, 0.0, 6 / 25],  # songs (6 read), users (4), streams
    "duplicate_event": [None, None, 1 / 25],
    "invalid_listen_time": [None, None, 1 / 25],
    "unknown_track": [None, None, 2 / 25],
    "unknown_user": [None, None, 2 / 25],
    "listen_before_signup (warning, kept)": [None, None, 3 / 25],
}


def test_quality_is_rates_per_dataset_and_reason(page: str) -> None:
    heatmap = figures(page)["data_quality"]["data"][0]
    assert heatmap["type"] == "heatmap"
    assert heatmap["x"] == ["songs", "users", "streams"]
    assert heatmap["y"] == list(QUALITY_RATES)
    percent = [[None if v is None else 100 * v for v in row] for row in QUALITY_RATES.values()]
    assert heatmap["z"] == [pytest.approx(row) for row in percent]
    assert heatmap["customdata"][0] == ["0 of 6 rows", "0 of 4 rows", "6 of 25 rows"]
    assert heatmap["customdata"][4][2] == "2 of 25 rows"


def test_quality_rates_sum_batches_and_keep_warnings_apart() -> None:
    rows = [
        {"batch_id": b, "dataset": "streams", "outcome": o, "reason": r, "rows": n}
        for b, o, r, n in [
            ("b1", "kept", "kept", 90),
            ("b1", "quarantined", "unknown_user", 10),
            ("b2", "kept", "kept", 1_900),
            ("b2", "warning", "listen_before_signup", 500),
        ]
    ]
    rates = quality_rates(rows)
    assert rates.read == {"streams": 2_000}  # warned rows are kept rows: not read twice
    assert rates.reasons == [ANY, "unknown_user", "listen_before_signup"]
    assert rates.rate("streams", "unknown_user") == 10 / 2_000
    assert rates.rate("streams", "listen_before_signup") == 500 / 2_000
    assert rates.rate("songs", "unknown_user") is None


# plays per weekday and UTC hour, hand-summed from conftest.HOURLY: Monday = D1 + D3
MONDAY = {8: 3 + 2, 9: 2, 12: 2, 20: 2, 21: 2, 23: 2}
TUESDAY = {7: 2, 18: 2}


def test_hourly_heatmap(page: str) -> None:
    heatmap = figures(page)["hourly_activity"]["data"][0]
    assert heatmap["x"] == list(range(24))
    assert heatmap["y"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    expected = [[day.get(h, 0) for h in range(24)] for day in (MONDAY, TUESDAY)]
    assert heatmap["z"] == expected + [[0] * 24] * 5
    assert sum(map(sum, heatmap["z"])) == 19  # every play of the period, once


def test_active_listeners(page: str) -> None:
    chart = traces(figures(page)["active_listeners"])
    assert chart["DAU"]["x"] == ["2026-01-05", "2026-01-06", "2026-01-12"]
    assert chart["DAU"]["y"] == [3, 2, 3]
    # weeks and the month as flat steps over their days, end exclusive, None between
    assert chart["WAU"]["x"] == ["2026-01-05", "2026-01-12", None, "2026-01-12", "2026-01-19"]
    assert chart["WAU"]["y"] == [3, 3, None, 3, 3]
    assert chart["MAU"]["x"] == ["2026-01-01", "2026-02-01"]
    assert chart["MAU"]["y"] == [5, 5]
    new = chart["new listeners per day"]
    assert (new["type"], new["y"], new["yaxis"]) == ("bar", [1, 0, 1], "y2")


def test_active_listeners_of_a_period_include_the_weeks_and_months_it_touches(
    kpi_lake: str, tmp_path: Path
) -> None:
    out = write_report(kpi_lake, tmp_path / "r.html", date(2026, 1, 6), date(2026, 1, 6))
    chart = traces(figures(out.read_text(encoding="utf-8"))["active_listeners"])
    assert (chart["DAU"]["x"], chart["DAU"]["y"]) == (["2026-01-06"], [2])
    assert (chart["WAU"]["x"], chart["WAU"]["y"]) == (["2026-01-05", "2026-01-12"], [3, 3])
    assert chart["MAU"]["y"] == [5, 5]


def test_listener_activity(page: str) -> None:
    bars = figures(page)["listener_activity"]["data"][0]
    # streams per user-day, conftest.USER_DAILY: 4 2 1 | 3 1 | 3 3 2
    assert bars["x"] == ["1", "2", "3", "4"]
    assert bars["y"] == [2, 2, 3, 1]


def test_activity_bins_double_when_the_tail_is_long() -> None:
    counts = {1: 500, 2: 300, 3: 100, 4: 50, 7: 20, 30: 3, 1_500: 1}
    rows = [{"listen_count": c, "user_days": n} for c, n in counts.items()]
    bins = activity_bins(rows)
    assert bins[:6] == [
        ("1", 500),
        ("2", 300),
        ("3-4", 150),
        ("5-8", 20),
        ("9-16", 0),
        ("17-32", 3),
    ]
    assert bins[-1] == ("1,025-2,048", 1)
    assert sum(n for _, n in bins) == sum(counts.values())
    assert is_log_binned(bins)
    assert not is_log_binned(activity_bins(rows[:4]))
    assert activity_bins([]) == []


def test_the_fixture_story_adds_up() -> None:
    """conftest's listener tables are what its streams give, and agree with its other KPIs."""
    for day, streams in conftest.STREAM_STORY.items():
        country = {u: c or "Unknown" for u, _, _, c, _ in conftest.USERS}
        by_country: dict[str, list[Any]] = {}
        by_hour: dict[int, list[Any]] = {}
        by_user: dict[str, list[Any]] = {}
        for s in streams:
            by_country.setdefault(country[s[0]], []).append(s)
            by_hour.setdefault(s[2], []).append(s)
            by_user.setdefault(s[0], []).append(s)
        assert sorted(_totals(by_country)) == sorted(conftest.COUNTRIES[day])
        assert sorted(_totals(by_hour)) == sorted(conftest.HOURLY[day])
        users = [(u, n, len({s[1] for s in by_user[u]}), ms) for u, n, _, ms in _totals(by_user)]
        assert users == [r[:4] for r in sorted(conftest.USER_DAILY[day])]
        tracks = _totals({t: [s for s in streams if s[1] == t] for t in {s[1] for s in streams}})
        assert sorted(tracks) == sorted(conftest.TRACK_PLAYS[day])
        day_row = conftest.ACTIVE["day", day]
        assert day_row[1] == len(by_user) and day_row[3] == len(streams)


def _totals(groups: dict[Any, list[Any]]) -> list[tuple[Any, int, int, int]]:
    """(key, streams, distinct users, listen ms) per group, sorted by key."""
    return [
        (k, len(ss), len({s[0] for s in ss}), sum(s[3] for s in ss))
        for k, ss in sorted(groups.items())
    ]


def test_one_colour_per_genre_in_every_chart(page: str, kpi_lake: str) -> None:
    charts = figures(page)
    html_colors: dict[str, set[str]] = {}
    for key in ("top_genres", "listening_per_user"):
        for name, trace in traces(charts[key]).items():
            if name != "all listeners":
                html_colors.setdefault(name, set()).add(trace["line"]["color"])
    buttons = charts["top_songs"]["layout"]["updatemenus"][0]["buttons"]
    for button, trace in zip(buttons, charts["top_songs"]["data"], strict=True):
        html_colors.setdefault(button["label"], set()).add(trace["marker"]["color"])
    # sorted featured genres (the top-genres list) first, then folk
    expected = {"jazz": PALETTE[0], "pop": PALETTE[1], "rock": PALETTE[2], "folk": PALETTE[3]}
    assert html_colors == {g: {c} for g, c in expected.items()}
    assert png_colors(kpi_lake) == {g: {c} for g, c in expected.items()}


def png_colors(lake: str) -> dict[str, set[str]]:
    """The colour of each genre in the PNG charts, read from the matplotlib artists."""
    with duckdb.connect() as con:
        data = load_data(con, lake, Params())
    found: dict[str, set[str]] = {}
    with png_style():
        for key in ("top_genres", "listening_per_user", "top_songs"):
            ax = draw(key, data).axes[0]
            for line in ax.get_lines():
                if line.get_label() != "all listeners":
                    found.setdefault(line.get_label(), set()).add(to_hex(line.get_color()))
            for bars in ax.containers:
                color = to_hex(bars[0].get_facecolor())
                found.setdefault(str(bars.get_label()), set()).add(color)
    return found


def test_genre_colours_are_deterministic() -> None:
    colors = genre_colors(["rock", "pop", "pop"], ["folk", "acoustic", "rock"])
    assert colors == {
        "pop": PALETTE[0],
        "rock": PALETTE[1],
        "acoustic": PALETTE[2],
        "folk": PALETTE[3],
    }
    many = genre_colors([f"g{i:03d}" for i in range(len(PALETTE) + 2)])
    assert len(set(many.values())) == len(PALETTE) + 1  # the rest share OTHER
    assert many[f"g{len(PALETTE):03d}"] == OTHER


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
    for table in ("batch_quality", "hourly_activity", "active_listeners", "user_daily"):
        shutil.rmtree(copy / "kpis" / table)  # a lake from before the listener tables
    out = write_report(str(copy), tmp_path / "r.html", date(2026, 1, 6), date(2026, 1, 6))
    page = out.read_text(encoding="utf-8")
    assert "2026-01-06 to 2026-01-06" in page
    charts = figures(page)
    for key in ("data_quality", "hourly_activity", "active_listeners", "listener_activity"):
        assert charts[key]["data"] == []
        assert charts[key]["layout"]["annotations"][0]["text"] == "No data for this period"
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


def listener_data(name: str) -> ReportData:
    """ReportData naming ``name`` wherever the charts show data text, listener rows too."""
    day = date(2026, 1, 5)
    plays = {"report_date": day, "listen_count": 1, "avg_listening_ms_per_user": 60_000.0}
    genre = plays | {"genre": name}
    counts = {"listeners": 1_500, "new_listeners": 1}
    return ReportData(
        top_genres=[genre],
        genres=[genre],
        artists=[{"rank": 1, "artist": name, "listen_count": 1_234_567}],
        songs=[genre | {"rank": 1, "track_name": name, "artists": name}],
        countries=[{"country": name, "listen_count": 1, "avg_daily_listeners": 1.0}],
        engagement=[plays],
        quality=[
            {"batch_id": "b", "dataset": name, "reason": name, "outcome": "quarantined", "rows": 1}
        ],
        hourly=[{"weekday": 1, "hour": 8, "listen_count": 12_345}],
        active=[
            {"period": p, "period_start": day, "period_end": day} | counts
            for p in ("day", "week", "month")
        ],
        activity=[{"listen_count": 2, "user_days": 3}],
    )


def test_pngs_survive_hostile_names_and_empty_data(tmp_path: Path) -> None:
    evil = "$^$ <b>x</b> \\frac{ $ " + "x" * 80
    assert len(write_pngs(listener_data(evil), tmp_path / "evil")) == len(SECTIONS)
    empty = ReportData([], [], [], [], [], [], [])
    assert len(write_pngs(empty, tmp_path / "empty")) == len(SECTIONS)


CJK_NAMES = ["周杰倫", "ロック", "東京事変 — 群青日和", "K-ポップ"]


@pytest.mark.usefixtures("cjk_font")
@pytest.mark.filterwarnings("error::UserWarning")  # matplotlib's glyph warnings
def test_pngs_draw_cjk_names_without_a_warning(
    tmp_path: Path, recwarn: pytest.WarningsRecorder, capfd: pytest.CaptureFixture[str]
) -> None:
    families = font_families()
    assert set(families) & set(CJK_FAMILIES), families
    cjk = next(f for f in families if f in CJK_FAMILIES)
    font = FT2Font(findfont(FontProperties(family=cjk), fallback_to_default=False))
    assert all(font.get_char_index(ord(c)) for c in "".join(CJK_NAMES) if ord(c) > 0x3000)
    for i, name in enumerate(CJK_NAMES):
        write_pngs(listener_data(name), tmp_path / str(i))
    assert [str(w.message) for w in recwarn] == []
    assert capfd.readouterr().err == ""


@pytest.mark.filterwarnings("error::UserWarning")  # matplotlib's glyph warnings
def test_a_glyph_no_font_has_prints_no_warning(
    tmp_path: Path, recwarn: pytest.WarningsRecorder, capfd: pytest.CaptureFixture[str]
) -> None:
    write_pngs(listener_data("\U0001f3b5 \U0001fae8 \u2a00\u2a01"), tmp_path)  # music note, emoji
    assert [str(w.message) for w in recwarn] == []
    assert capfd.readouterr().err == ""
