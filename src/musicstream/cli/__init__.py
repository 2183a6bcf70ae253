"""The `musicstream` command: thin shells that build settings and call one function each.

    cli/common.py   the app, its options, settings from flags
    cli/batch.py    run, replay, backfill, stage
    cli/read.py     status, kpis, validate (a dry run)
    cli/data.py     generate, demo
    cli/admin.py    unlock, repair, store init

The report and deploy commands register themselves from their packages (``main``).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import typer

from musicstream.cli.common import app
from musicstream.errors import UserError

# The modules register their commands when imported, in the order `musicstream --help` lists.
for _commands in ("batch", "watch", "read", "serve", "data", "admin"):
    importlib.import_module(f"musicstream.cli.{_commands}")

__all__ = ["app", "main"]


def _register_extensions() -> None:
    from musicstream.deploy.commands import register as register_deploy

    register_deploy(app)
    try:
        from musicstream.report.commands import register
    except ImportError:  # the report package is optional
        return
    register(app)


def _usage_error(exc: Any) -> None:
    """A click usage error (bad option, bad value, missing argument) as one line."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # the help text itself (as typer checks it)
        exc.show()
    else:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = " ".join(exc.format_message().split())
        print(f"error: {message}{hint}", file=sys.stderr)
    sys.exit(exc.exit_code)


def main() -> None:
    """Entry point: user mistakes become one clear line and exit code 2."""
    _register_extensions()
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except (typer.Exit, typer.Abort) as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click's errors
            _usage_error(exc)
        logging.getLogger("musicstream").exception("run failed")
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
