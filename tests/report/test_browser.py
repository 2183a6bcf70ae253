"""The report in a real browser: headless Chromium opens it from disk, offline.

Playwright drives the system Chromium (``executable_path``): no browser is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from musicstream.report.build import SECTIONS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request

pytestmark = pytest.mark.slow  # a browser

CHARTS_DRAWN = "[...document.querySelectorAll('.chart')].every(d => d.querySelector('.main-svg'))"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """Headless system Chromium. Its sandbox cannot run as root in a container, so it is
    off (``chromium_sandbox=False``: Playwright passes ``--no-sandbox``)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # never fetch Playwright's build
        with sync_api.sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=chromium, headless=True, chromium_sandbox=False
            )
            yield launched
            launched.close()


@dataclass
class PageLog:
    """What a page did: console errors, uncaught exceptions, failed and all requests."""

    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"exception: {error}"))
        page.on("requestfailed", self._failed)
        page.on("request", lambda request: self.requests.append(request.url))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "assert"):
            self.problems.append(f"console.{message.type}: {message.text}")

    def _failed(self, request: Request) -> None:
        self.problems.append(f"request failed: {request.url} ({request.failure})")


def open_offline(browser: Browser, path: Path) -> tuple[Page, PageLog]:
    """``path`` loaded in a fresh offline context with everything it does recorded."""
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    log = PageLog()
    page = log.watch(context.new_page())
    page.goto(path.as_uri(), wait_until="load")
    return page, log


def test_report_renders_every_chart_without_errors(
    browser: Browser, report_files: tuple[Path, Path], tmp_path: Path
) -> None:
    html, _ = report_files
    page, log = open_offline(browser, html)
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    drawn = page.evaluate(
        "[...document.querySelectorAll('.chart')]"
        ".filter(d => d.querySelector('.main-svg')).map(d => d.id)"
    )
    shot = tmp_path / "report.png"
    page.screenshot(path=shot, full_page=True)
    page.context.close()
    assert drawn == [s.key for s in SECTIONS]
    assert log.problems == []
    assert log.requests and all(u.startswith(("file:", "data:", "blob:")) for u in log.requests)
    assert shot.read_bytes().startswith(PNG_MAGIC) and shot.stat().st_size > 50_000


LISTENER_CHARTS = ("hourly_activity", "active_listeners", "listener_activity")
# What each new chart draws: heatmap images, line paths, bar paths, per chart element.
DRAWN_MARKS = """keys => Object.fromEntries(keys.map(k => {
  const d = document.getElementById(k);
  return [k, {
    heatmaps: d.querySelectorAll('.heatmaplayer image').length,
    lines: d.querySelectorAll('.scatterlayer .trace .js-line').length,
    bars: d.querySelectorAll('.barlayer .point path').length,
    panels: Object.keys(d._fullLayout).filter(a => /^yaxis\\d*$/.test(a)).length,
  }];
}))"""


def test_listener_and_quality_charts_draw_their_marks(
    browser: Browser, report_files: tuple[Path, Path]
) -> None:
    html, _ = report_files
    page, log = open_offline(browser, html)
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    marks = page.evaluate(DRAWN_MARKS, [*LISTENER_CHARTS, "data_quality", "countries"])
    page.context.close()
    assert marks["hourly_activity"]["heatmaps"] == 1
    assert marks["data_quality"]["heatmaps"] == 1
    active = marks["active_listeners"]
    # DAU, WAU's two weeks as two segments, MAU | a bar per day of new listeners
    assert (active["lines"], active["bars"], active["panels"]) == (4, 3, 2)
    assert marks["listener_activity"]["bars"] == 4
    assert marks["countries"]["panels"] == 2  # two panels, no overlaid second axis
    assert log.problems == []
    assert all(u.startswith(("file:", "data:", "blob:")) for u in log.requests)


def test_the_error_detector_sees_errors(browser: Browser, tmp_path: Path) -> None:
    """Control: the checks above would fail on a page that misbehaves."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<html><body><img src="https://example.invalid/x.png">'
        "<script>console.error('logged-error'); throw new Error('uncaught-boom');</script>"
        "</body></html>"
    )
    page, log = open_offline(browser, bad)
    page.context.close()
    problems = " | ".join(log.problems)
    assert "console.error: logged-error" in problems
    assert "exception: uncaught-boom" in problems
    assert "request failed: https://example.invalid/x.png" in problems
    assert "https://example.invalid/x.png" in log.requests
