"""SQL text built in Python: the one place a value is quoted into a statement."""

from __future__ import annotations

from collections.abc import Iterable


def literal(value: object) -> str:
    """A SQL string literal: ``it's`` → ``'it''s'``.

    DuckDB and SQLite; not Spark SQL, where ``''`` joins two literals (it escapes with ``\\``).
    """
    return "'" + str(value).replace("'", "''") + "'"


def literal_list(values: Iterable[object]) -> str:
    """A DuckDB list of string literals, e.g. the files a ``read_parquet`` reads."""
    return "[" + ", ".join(literal(v) for v in values) + "]"
