"""Clean interrupts: Ctrl-C (SIGINT) and SIGTERM stop a run at its next safe point.

A safe point is any step boundary: every step is idempotent and a batch's plan is saved
before its work (SPEC §4), so a run stopped between two steps is finished by the next run
exactly as if it had not been stopped. The first signal is only *noted* (and the running
DuckDB query is interrupted, so a long query does not delay the stop); the run raises
:class:`Interrupted` at its next :func:`check`, unwinds through its ``finally`` blocks
(the lake's lock is released, the engine closed), sends the "interrupted" notification, and
the CLI prints one line and exits 130 (SIGINT) or 143 (SIGTERM). A second signal raises at
once, wherever the run is: the user insisted, and a crash-safe run tolerates it.

Outside :func:`safe_points` (while the CLI imports its modules, builds settings, or runs a
read-only command) a signal raises at once too — SIGTERM then behaves like Python's
KeyboardInterrupt instead of killing the process without a word.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A run stopped by a signal. A BaseException, like KeyboardInterrupt: no ``except
    Exception`` on the way (a file's validation, a retry loop) may mistake it for a failure."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.detail = ""  # what became of the work, for the command's last line
        super().__init__(f"interrupted by {self.signal_name}")

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_pending: int | None = None  # the first signal noted inside safe_points()
_cancels: dict[int, Callable[[], None]] = {}  # what to tell to stop at once (DuckDB queries)


def raise_at_once() -> None:
    """SIGINT and SIGTERM raise :class:`Interrupted` where they land (the CLI at start)."""
    for signum in SIGNALS:
        signal.signal(signum, _raise)


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def safe_points() -> Iterator[None]:
    """While the block runs, a first signal is noted for :func:`check`; a second raises.
    Main thread only (Python delivers signals there).

    When the block's work is done and the command's handlers were :func:`raise_at_once`'s
    (the CLI, which only prints its result before it exits), a later signal is ignored: it
    has nothing left to stop, and it would turn a finished run into exit 130/143 — or kill
    the process outright once Python's exit has put the default handlers back."""
    global _pending
    previous = {s: signal.signal(s, _note) for s in SIGNALS}
    _pending = None
    done = False
    try:
        yield  # a signal after the last safe point changes nothing: the work is done
        done = True
    finally:
        _pending = None
        for signum, handler in previous.items():
            late = done and handler is _raise
            signal.signal(signum, signal.SIG_IGN if late else handler)


def _note(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _pending is not None:
        insist(signum)
    _pending = signum
    log.warning(
        "%s: stopping at the next safe point (again to stop at once)", signal.Signals(signum).name
    )
    for cancel in list(_cancels.values()):
        try:
            cancel()
        except Exception:  # a stop request must never fail on its own
            log.debug("could not cancel the running work", exc_info=True)


def insist(signum: int) -> NoReturn:
    """Stop at once (a second signal, from its handler): the signal is also noted, because
    where it lands the code running may turn it into an error of its own — DuckDB answers a
    handler that raises with "Query interrupted" — and :func:`translated` turns that back."""
    global _pending
    _pending = signum
    raise Interrupted(signum)


def check() -> None:
    """A safe point: raise :class:`Interrupted` when a signal was noted."""
    if _pending is not None:
        raise Interrupted(_pending)


def pending() -> bool:
    """Whether a stop was asked for: an error raised now may be the stop's, not the work's."""
    return _pending is not None


def translated(exc: BaseException) -> BaseException:
    """The error a noted signal caused (DuckDB's "INTERRUPT Error" after its query was
    cancelled, Spark's cancelled job) as :class:`Interrupted`; anything else unchanged."""
    if _pending is not None and not isinstance(exc, Interrupted):
        return Interrupted(_pending)
    return exc


def on_signal(cancel: Callable[[], None]) -> Callable[[], None]:
    """Until the returned function is called, a first signal also calls ``cancel`` (from the
    signal handler: it must be safe there, like ``duckdb.DuckDBPyConnection.interrupt``)."""
    key = id(cancel)
    _cancels[key] = cancel

    def forget() -> None:
        _cancels.pop(key, None)

    return forget
