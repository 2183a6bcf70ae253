"""``main()``'s body: every command registered, and how a command ends (cli/stop.py)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

from musicstream.cli.common import app
from musicstream.cli.stop import fail, failed, stopped
from musicstream.interrupts import Interrupted

# The modules register their commands when imported, in the order `musicstream --help` lists.
for _commands in ("batch", "watch", "read", "verify", "serve", "data", "admin"):
    importlib.import_module(f"musicstream.cli.{_commands}")

__all__ = ["app", "run"]


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
        fail(f"{exc.format_message()}{hint}", exc.exit_code)
    sys.exit(exc.exit_code)


def run() -> None:
    """Run the command line: user mistakes are one line and exit 2, a stop signal one line
    and 130/143, a failure one line and 1."""
    _register_extensions()
    try:
        code = app(standalone_mode=False)
    except (typer.Exit, typer.Abort) as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except (KeyboardInterrupt, Interrupted) as exc:
        stopped(exc)
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click's errors
            _usage_error(exc)
        failed(exc)
    sys.exit(code if isinstance(code, int) else 0)
