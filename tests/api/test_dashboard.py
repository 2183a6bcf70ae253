"""The live dashboard at ``/`` in a real browser, against real ``serve`` and ``run`` commands.

One small lake and two ``musicstream serve`` processes (one with an API token) for the
module. The page is opened before the first run: it says the store is empty, draws the
first load when ``run`` finishes, and the next batch's without being reloaded. Its tables
must show the numbers the API gives. Playwright drives the system Chromium (no download).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conftest import cli
from musicstream.generate import generate
from report.conftest import chromium  # noqa: F401  (the fixture: system Chromium)

from .serving import get

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

pytestmark = pytest.mark.slow  # a browser, two servers and real runs

TOKEN = "dashboard-test-token"
FIRST_DAYS = ("2026-01-01", "2026-01-02")
NEXT_DAY = "2026-01-03"
WAIT_MS = 15_000
CHARTS_WITHOUT_SVG = (
    "[...document.querySelectorAll('.chart')].filter(d => !d.querySelector('.main-svg'))"
    ".map(d => d.id)"
)
# A value table as row objects: {data-col: data-value} for each cell.
TABLE = """id => [...document.querySelectorAll(`#${id} tbody tr`)].map(tr =>
  Object.fromEntries([...tr.cells].map(td => [td.dataset.col, td.dataset.value])))"""


@dataclass
class Site:
    """The lake and the base URLs of the servers on it: ``open`` and ``token`` (needs one)."""

    lake: Path
    open: str
    token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Two ``musicstream serve`` on one lake, and a first batch of two days in its landing,
    not run yet (generated while the servers start)."""
    lake = tmp_path_factory.mktemp("dashboard") / "lake"
    lake.mkdir()
    started = [_serve(lake, "open", None), _serve(lake, "token", TOKEN)]
    try:
        _generate(lake, FIRST_DAYS[0], days=2, streams=3000)
        yield Site(lake, *(_address(process) for process in started))
    finally:
        for process in started:
            process.terminate()
            process.communicate(timeout=30)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:  # noqa: F811
    """Headless system Chromium, its sandbox off (it cannot run as root in a container)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        with sync_api.sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=chromium, headless=True, chromium_sandbox=False
            )
            yield launched
            launched.close()


@dataclass
class PageLog:
    """Every request a page made, and its console errors and uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            self.problems.append(f"console.{message.type}: {message.text}")


def open_page(browser: Browser, url: str) -> tuple[Page, PageLog]:
    """``url`` loaded in a fresh 1280 by 800 context, with what it does recorded."""
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log = PageLog()
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("console", log.console)
    page.on("pageerror", lambda error: log.problems.append(f"exception: {error}"))
    page.goto(url, wait_until="load")
    return page, log


def test_the_dashboard_follows_the_loads_live(browser: Browser, site: Site) -> None:
    page, log = open_page(browser, f"{site.open}/?refresh=0.5")
    page.wait_for_function("document.body.dataset.state === 'empty'", timeout=WAIT_MS)
    assert "musicstream run" in page.inner_text("#status")

    _run(site.lake)
    first = _shows_the_last_load(page, site.open)
    assert first["latest_date"] == FIRST_DAYS[-1]
    assert page.evaluate(CHARTS_WITHOUT_SVG) == []
    page.screenshot(path=site.lake.parent / "dashboard.png")

    _generate(site.lake, NEXT_DAY, days=1, streams=1000, seed=7)
    _run(site.lake)
    second = _shows_the_last_load(page, site.open)  # the same page: never reloaded
    assert second["latest_date"] == NEXT_DAY and second["batch_id"] != first["batch_id"]
    page.context.close()
    assert log.problems == []
    assert log.requests and all(url.startswith(f"{site.open}/") for url in log.requests)


def test_the_token_comes_from_the_address(browser: Browser, site: Site) -> None:
    """Without a token the page says how to give one; given in the address, it is used."""
    if get(f"{site.token}/health")[1]["status"] == "empty":  # this test alone
        _run(site.lake)
    page, log = open_page(browser, f"{site.token}/?refresh=0.5")
    page.wait_for_function("document.body.dataset.state === 'token'", timeout=WAIT_MS)
    message = page.inner_text("#status")
    assert "needs a token" in message and "#token=" in message

    page.evaluate("token => { location.hash = `token=${token}`; }", TOKEN)
    _shows_the_last_load(page, site.token, {"Authorization": f"Bearer {TOKEN}"})
    assert TOKEN not in page.url  # kept in sessionStorage, out of the address bar
    page.context.close()
    # The refused request itself is all Chromium logs: no exception, no other error.
    assert [p for p in log.problems if "status of 401" not in p] == []
    assert all(url.startswith(f"{site.token}/") for url in log.requests)


def _shows_the_last_load(page: Page, base: str, auth: dict[str, str] | None = None) -> Any:
    """Waits until the page shows the server's last load, then checks its numbers against
    the API's; returns that load."""
    load = get(f"{base}/health")[1]["last_load"]
    page.wait_for_function(
        "([batch]) => document.body.dataset.state === 'ready'"
        " && document.getElementById('last-batch').textContent === batch",
        arg=[load["batch_id"]],
        timeout=WAIT_MS,
    )
    date = load["latest_date"]
    assert page.inner_text("#latest-date") == date
    assert re.fullmatch(r"\d+ s ago", page.inner_text("#loaded-ago"))

    def kpis(query: str) -> list[dict[str, Any]]:
        status, body, _ = get(f"{base}/v1/kpis/{query}", auth)
        assert status == 200, body
        return list(body["rows"])

    def table(name: str, columns: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [tuple(row[c] for c in columns) for row in page.evaluate(TABLE, name)]

    def texts(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [tuple(str(row[c]) for c in columns) for row in rows]

    genres = kpis(f"top_genres_daily?date={date}")
    columns = ("rank", "genre", "listen_count", "unique_listeners", "total_listening_ms")
    assert genres and table("top-genres-table", columns) == texts(genres, columns)

    top = [g["genre"] for g in genres]
    songs = [s for s in kpis(f"top_songs_daily?date={date}") if s["genre"] in top]
    songs.sort(key=lambda s: (top.index(s["genre"]), s["rank"]))
    columns = ("genre", "rank", "track_name", "artists", "listen_count")
    assert table("top-songs-table", columns) == texts(songs, columns)

    columns = ("country", "listen_count", "unique_listeners")
    countries = texts(kpis(f"country_daily?date={date}"), columns)
    assert sorted(table("countries-table", columns)) == sorted(countries)

    hourly = table("hourly-table", ("hour", "listen_count"))
    by_hour = {r["hour"]: r["listen_count"] for r in kpis(f"hourly_activity?date={date}")}
    assert hourly == [(str(h), str(by_hour.get(h, 0))) for h in range(24)]

    day = kpis(f"active_listeners?period=day&from={date}&to={date}")
    assert page.get_attribute("#listeners-day", "data-value") == str(day[0]["listeners"])
    totals = table("genre-days-table", ("report_date", "total"))
    plays = sum(r["listen_count"] for r in kpis(f"genre_daily?date={date}"))
    assert len(totals) == 7 and totals[-1] == (date, str(plays))
    return load


def _generate(lake: Path, start: str, days: int, streams: int, seed: int = 42) -> None:
    """A batch in ``lake``'s landing: what ``musicstream generate`` writes, in process (the
    command is a thin shell over it; its start-up would cost the suite a second a batch)."""
    day = dt.date.fromisoformat(start)
    generate(
        lake / "landing", streams=streams, songs=300, users=300, days=days, start=day, seed=seed
    )


def _run(lake: Path) -> None:
    done = cli("run", "--lake", str(lake), env={"MUSICSTREAM_SETTLE_S": "0"})
    assert done.returncode == 0, done.stderr


def _serve(lake: Path, name: str, token: str | None) -> subprocess.Popen[str]:
    """``musicstream serve`` on a port the system picks; its log in ``serve-<name>.log``."""
    env = {k: v for k, v in os.environ.items() if k != "MUSICSTREAM_API_TOKEN"}
    if token:
        env["MUSICSTREAM_API_TOKEN"] = token
    command = [sys.executable, "-m", "musicstream", "serve", "--lake", str(lake), "--port", "0"]
    with open(lake.parent / f"serve-{name}.log", "w") as log:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)


def _address(process: subprocess.Popen[str]) -> str:
    """The base URL a starting server prints, once its /health answers."""
    assert process.stdout is not None
    line = process.stdout.readline()  # "musicstream read API on http://127.0.0.1:PORT/ …"
    found = re.search(r"http://[\d.]+:\d+", line)
    assert found, f"the server did not start: {line!r}"
    deadline = time.monotonic() + 30
    while True:
        try:
            get(f"{found[0]}/health")
            return found[0]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
