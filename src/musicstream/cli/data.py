"""Commands that make data: the generator and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from musicstream.cli.common import app, parse_date, require_folder
from musicstream.logs import setup_logging


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Landing folder to write into.")] = Path("lake/landing"),
    streams: int = 100_000,
    songs: int = 11_400,
    users: int = 10_000,
    days: int = 7,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-01-01",
    seed: int = 42,
    dirty: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    stream_files: int = 1,
) -> None:
    """Synthetic songs (Spotify Tracks layout), users and streams, at any scale."""
    from musicstream import console
    from musicstream.generate import generate as gen
    from musicstream.generate.initial import files_of

    setup_logging("text")
    first = parse_date(start, "--start")
    assert first is not None
    require_folder(out, "--out")
    with console.file_progress("generate", files_of(stream_files, dirty)) as wrote:
        summary = gen(
            out,
            streams=streams,
            songs=songs,
            users=users,
            days=days,
            start=first,
            seed=seed,
            dirty=dirty,
            stream_files=stream_files,
            on_file=wrote,
        )
    console.print_generated(summary)


@app.command()
def demo(
    lake: Annotated[Path, typer.Option(help="Fresh demo lake folder.")] = Path("demo-lake"),
) -> None:
    """Generate a small dirty dataset, run it as two batches, and show the results."""
    from musicstream import demo as demo_mod

    setup_logging("text")
    require_folder(lake, "--lake")
    demo_mod.run_demo(lake)
