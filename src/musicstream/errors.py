"""Errors a user can act on: the CLI prints their message as one line, no traceback."""


class UserError(Exception):
    """A mistake in the user's input: bad option, missing lake, unreadable config."""


class LakeLocked(UserError):
    """Another run holds the lake's lock."""


class QualityGateFailed(UserError):
    """A batch quarantined more than ``max_bad_ratio`` of a dataset's rows and was rejected."""
