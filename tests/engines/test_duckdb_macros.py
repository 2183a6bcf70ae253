"""DuckDB's parsing macros on the spellings where DuckDB 2's casts read differently from 1.x.

tests/engines/spark/test_macros.py compares every case with Spark, but needs a JVM; these few run
everywhere, so a DuckDB upgrade that loosens or tightens a cast fails here first.
"""

from __future__ import annotations

from importlib import resources

import duckdb
import pytest

CASES = [
    # (input, ms_ts, ms_date_or_ts)
    ("2026-01-05 12:34:56", "2026-01-05 12:34:56", "2026-01-05 12:34:56"),
    ("2026-01-05T12:34:56Z", "2026-01-05 12:34:56", "2026-01-05 12:34:56"),
    ("2026-01-05T12:34:56+01:00", "2026-01-05 11:34:56", "2026-01-05 11:34:56"),
    ("2026-01-05 12:34:56+01:00 ", "2026-01-05 11:34:56", "2026-01-05 11:34:56"),
    ("2026-01-05 12:34:56.5 UTC", "2026-01-05 12:34:56.5", "2026-01-05 12:34:56.5"),
    ("2026-01-05 12:34", "2026-01-05 12:34:00", "2026-01-05 12:34:00"),
    # a zone word other than UTC: DuckDB 2's TIMESTAMP cast drops it and reads the time as UTC
    ("2026-01-05 12:34:56 CET", None, None),
    ("2026-01-05 12:34:56 Europe/Paris", None, None),
    ("2026-01-05 12:34:56 Z", None, None),
    ("2026-01-05 12:34:56 garbage", None, None),
    # an offset or zone right after HH:MM: DuckDB 2 reads '+56' as 56 hours
    ("2026-01-05 12:34+56", None, None),
    ("2026-01-05T12:34Z", None, None),
    ("2026-01-05 12:34 UTC", None, None),
    # a bare date with a tail: DuckDB 2's DATE cast refuses it, 1.x and Spark read the date
    ("2026-01-05x", None, "2026-01-05 00:00:00"),
    ("2026-01-05 10", None, "2026-01-05 00:00:00"),
    ("2024-06-25 (BC)", None, None),
]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    macros = resources.files("musicstream.engines.duckdb").joinpath("macros.sql")
    con.execute(macros.read_text("utf-8"))
    return con


@pytest.mark.parametrize(("text", "ts", "date_or_ts"), CASES)
def test_parse(con: duckdb.DuckDBPyConnection, text: str, ts: str | None, date_or_ts: str | None):
    con.execute("create or replace table t as select ?::varchar as x", [text])
    found = con.execute(
        "select cast(ms_ts(x) as varchar), cast(ms_date_or_ts(x) as varchar) from t"
    ).fetchall()
    assert found == [(ts, date_or_ts)]
