"""The `musicstream` command: thin shells that build settings and call one function each.

    cli/entry.py    main(): the commands registered, errors and interrupts as one line
    cli/common.py   the app, its options, settings from flags
    cli/batch.py    run, replay, backfill, stage
    cli/read.py     status, kpis, validate (a dry run)
    cli/verify.py   verify: the store against the lake
    cli/data.py     generate, demo
    cli/admin.py    unlock, repair, store init

This module imports nothing heavy: :func:`main` first makes Ctrl-C and SIGTERM stop the
command with one line (interrupts.py), then imports the commands (typer, pydantic, …), so a
signal during those imports is one line too, not a traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Entry point (``musicstream``, ``python -m musicstream``)."""
    from musicstream import interrupts

    interrupts.raise_at_once()
    try:
        from musicstream.cli.entry import run
    except (KeyboardInterrupt, interrupts.Interrupted) as exc:
        from musicstream.cli.stop import stopped

        stopped(exc)
    run()


def __getattr__(name: str) -> Any:
    """``app``: the typer app with every command registered (tests, extensions)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from musicstream.cli.entry import app

    return app
