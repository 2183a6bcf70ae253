"""Errors a user can act on: the CLI prints their message as one line, no traceback."""


class UserError(Exception):
    """A mistake in the user's input: bad option, missing lake, unreadable config."""


class LakeLocked(UserError):
    """Another run holds the lake's lock."""


class QualityGateFailed(UserError):
    """A batch quarantined more than ``max_bad_ratio`` of a dataset's rows and was rejected."""


class LedgerDamaged(UserError):
    """A batch manifest in the lake's ledger cannot be read; ``musicstream repair`` fixes it."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path  # lake-relative, e.g. ``_state/batches/<batch_id>.json``


class StoreNotReady(UserError):
    """The serving store has no such table, or no KPIs yet: nothing was loaded (the read API
    answers 503, not 400: the request was fine)."""
