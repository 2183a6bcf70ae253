"""The report in a real browser: headless Chromium opens it from disk, offline."""

from __future__ import annotations

from pathlib import Path

from musicstream.report.build import SECTIONS

from .cdp import open_page

CHARTS_DRAWN = "[...document.querySelectorAll('.chart')].every(d => d.querySelector('.main-svg'))"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_report_renders_every_chart_without_errors(
    chromium: str, report_files: tuple[Path, Path], tmp_path: Path
) -> None:
    html, _ = report_files
    with open_page(chromium, html.as_uri(), tmp_path / "profile") as page:
        page.wait_for(CHARTS_DRAWN)
        drawn = page.evaluate(
            "[...document.querySelectorAll('.chart')]"
            ".filter(d => d.querySelector('.main-svg')).map(d => d.id)"
        )
        shot = tmp_path / "report.png"
        page.screenshot(shot)
        problems = page.problems()
        requests = page.requested_urls()
    assert drawn == [s.key for s in SECTIONS]
    assert problems == []
    assert requests and all(u.startswith(("file:", "data:", "blob:")) for u in requests), requests
    assert shot.read_bytes().startswith(PNG_MAGIC) and shot.stat().st_size > 50_000


def test_the_error_detector_sees_errors(chromium: str, tmp_path: Path) -> None:
    """Control: the checks above would fail on a page that misbehaves."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<html><body><img src="https://example.invalid/x.png">'
        "<script>console.error('logged-error'); throw new Error('uncaught-boom');</script>"
        "</body></html>"
    )
    with open_page(chromium, bad.as_uri(), tmp_path / "profile") as page:
        page.evaluate("1")
        problems = " | ".join(page.problems())
        requests = page.requested_urls()
    assert "logged-error" in problems
    assert "uncaught-boom" in problems
    assert "https://example.invalid/x.png" in requests
