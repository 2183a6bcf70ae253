"""Errors a user can act on: the CLI prints their message as one line, no traceback."""


class UserError(Exception):
    """A mistake in the user's input: bad option, missing lake, unreadable config."""


class LakeLocked(UserError):
    """Another run holds the lake's lock."""


class QualityGateFailed(UserError):
    """A batch quarantined more than ``max_bad_ratio`` of a dataset's rows and was rejected."""


class DataHealthFailed(UserError):
    """A data-health check that ``fail_on_warnings`` names fired (health/)."""


class LedgerDamaged(UserError):
    """A batch manifest in the lake's ledger cannot be read; ``musicstream repair`` fixes it."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path  # lake-relative, e.g. ``_state/batches/<batch_id>.json``


class StoreNotReady(UserError):
    """The serving store has no such table, or no KPIs yet: nothing was loaded (the read API
    answers 503, not 400: the request was fine)."""


class MachineError(Exception):
    """This machine or a service failed, not the input: a full disk, a store that is down.
    The run fails (never quarantining a file for it) with one line that names the file or
    store, no traceback; not a user's mistake (exit 1): fix the cause and run again."""


class StoreError(MachineError):
    """The serving store failed (disk full, I/O error, throttled, unreachable)."""


class DiskError(MachineError):
    """A file could not be written here (disk full, quota, file size limit, read-only)."""


class StoreMismatch(StoreError):
    """The store does not hold what was just loaded into it (verify/): a write lost, a
    concurrent writer. The batch is not committed; ``musicstream verify`` lists it all."""
