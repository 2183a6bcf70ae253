"""How a command ends when it cannot finish: one line on stderr and an exit code, never a
traceback for a user's mistake, a stop signal, a full disk or a failing store."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from typing import NoReturn

from musicstream.errors import MachineError, UserError
from musicstream.interrupts import Interrupted
from musicstream.logs import error_line, log_format


def stopped(exc: BaseException) -> NoReturn:
    """A stop signal: ``stopped by SIGINT`` (and what became of the run), exit 130/143."""
    if not isinstance(exc, Interrupted):  # KeyboardInterrupt: Python's own SIGINT handler
        exc = Interrupted(signal.SIGINT)
    detail = getattr(exc, "detail", "")
    print(
        error_line(f"stopped by {exc.signal_name}{': ' + detail if detail else ''}", log_format()),
        file=sys.stderr,
    )
    exit_now(exc.exit_code)


def exit_now(code: int) -> NoReturn:
    """Exit after a stop signal without the interpreter's finalization: the work has already
    unwound (lock released, notification sent), and a signal that landed inside a write can
    leave a stream's lock or a library's thread in a state in which finalization aborts the
    process (SIGABRT) instead of exiting with ``code``."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            stream.flush()
    os._exit(code)


def failed(exc: BaseException) -> NoReturn:
    """An error the command could not get past, as one line with its exit code: 2 for a
    user's mistake, 1 otherwise (a traceback is logged only for an unexpected error)."""
    if isinstance(exc, UserError):
        fail(str(exc), 2)
    if isinstance(exc, OSError):  # ENOSPC, EACCES, EIO: name the file
        logging.getLogger("musicstream").debug("failed", exc_info=exc)
        where = " ".join(str(p) for p in (exc.filename, exc.filename2) if p)
        fail(f"{exc.strerror or exc}{': ' + where if where else ''}", 1)
    if isinstance(exc, MachineError) or _engine_io(exc):  # names its file or store
        fail(str(exc), 1)
    logging.getLogger("musicstream").error("unexpected error", exc_info=exc)
    fail(f"{type(exc).__name__}: {exc}", 1)


def _engine_io(exc: BaseException) -> bool:
    """DuckDB's I/O and memory errors: about this machine, and they name their file."""
    kind = type(exc)
    return kind.__module__.startswith("duckdb") and kind.__name__ in (
        "IOException",
        "OutOfMemoryException",
    )


def fail(message: str, code: int) -> NoReturn:
    print(error_line(" ".join(message.split()), log_format()), file=sys.stderr)
    sys.exit(code)
