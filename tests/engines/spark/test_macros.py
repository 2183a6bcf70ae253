"""The parsing functions value for value: DuckDB's macros.sql against Spark's translation.

Known differences, all outside SPEC §2's formats, are not listed here: zone names other
than UTC after an offset ('UTC+01:00'), and offsets glued to a time without seconds in
DuckDB's plain parse. Years are four digits, 0001 to 9999, on both (SPEC §2: a signed or
five-digit year is not a valid timestamp; DuckDB alone would read '-2024' as a BC year).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import duckdb
import pytest

from musicstream.engines.spark.translate import to_spark

FUNCTIONS = ("ms_id", "ms_int", "ms_bool", "ms_ts", "ms_date_or_ts")

TIMESTAMPS = [
    # SPEC spellings
    "2026-01-05 12:34:56",
    "2026-01-05T12:34:56",
    "2026-01-05 12:34",
    "2026-01-05 12:34:56.123",
    "2026-01-05 12:34:56.123456789",
    "2026-01-05T12:34:56Z",
    "2026-01-05T12:34:56.5Z",
    "2026-01-05T12:34:56+01:00",
    "2026-01-05T12:34:56-0530",
    "2026-01-05T12:34:56+01",
    "2026-01-05T12:34:56.000+00:00",
    "2026-01-05T12:34Z",
    "2026-01-05 12:34:56+14:00",
    "2026-01-05 12:34:56-12:00",
    "2026-01-05T00:00:00-12:30",
    # what DuckDB also accepts
    "2026-01-05 1:34:56",
    "2026-01-05 12:3:56",
    "2026-01-05 12:34:5",
    "2026/01/05 12:34:56",
    "2026 01 05 12:34:56",
    "2026-1-5 1:2",
    "2026-01-05  12:34:56",
    "2026-01-05T 12:34:56",
    "2026-01-05 24:00:00",
    "2026-01-05 24:00",
    "2026-01-05 12:34:56.",
    "2026-01-05 12:34:",
    " 2026-01-05 12:34:56",
    "\t2026-01-05 12:34:56",
    "2026-01-05 12:34:56   ",
    "2026-01-05 12:34:56 UTC",
    "2026-01-05 12:34:56 utc",
    "2026-01-05 12:34:56.5 UTC",
    "2026-01-05 012:34:56",
    "2026-01-05T12:34:56+05:60",
    "2026-01-05T12:34:56+45:30",
    "2026-01-05 12:34:56+01:00:00",
    "2026-01-05 12:34:56Z\t",
    "2026-01-05 12:34:56+01:00 ",
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "0024-06-25 10:00:00",
    "0001-01-01 10:00:00+01:00",
    "0001-01-01T00:30:00-01:00",
    "9999-12-31T22:30:00-01:00",
    "9999-12-31 23:30:00+01:00",
    # what it refuses
    "2026-01-05 12:34:56 +01:00",
    "2026-01-05 12:34:56 Z",
    "2026-01-05 12:34:56UTC",
    "2026-01-05 12:34:56 Europe/Paris",
    "2026-01-05 12:34:56 CET",
    "2026-01-05 12:34:56GMT",
    "2026-01-05 24:00:01",
    "2026-01-05 24:30:00",
    "2026-01-05 25:00:00",
    "2026-01-05 12:60:00",
    "2026-01-05 23:59:60",
    "2026-02-30 12:00:00",
    "2026-13-01 12:00:00",
    "2026-01-05 12",
    "2026-01-05 12:34:56,123",
    "2026-01-05 12:34+56",
    "2026-01-05 12:34:56+1",
    "2026-01-05 12:34:56.-1",
    "2026-01-0512:34:56",
    "2026-01-05t12:34:56",
    "2026.01.05 12:00",
    "05/01/2026 12:00:00",
    "01/05/2026 12:00:00",
    "not a timestamp",
    "12:00:00",
    "x:y",
    "2026-01-05 12:34:56\n",
    " 2026-01-05 12:00:00\t",
    "2026-01-05 12:000:00",
    "2026-01-05",
    "2026/01-05 12:00:00",
    # years: signed, not four digits, 0000, BC, or carried out of 0001..9999
    "-2024-06-25 10:00:00",
    "+2024-06-25 10:00:00",
    " -2024-06-25 10:00:00",
    "-2024-06-25T10:00:00+01:00",
    "12024-06-25 10:00:00",
    "02026-01-05 12:34",
    "024-06-25 10:00:00",
    "24-06-25 10:00:00",
    "20-4-06 10:00:00",
    "2-04-06 10:00:00",
    "0000-01-01 00:00:00",
    "0000-06-25T10:00:00Z",
    "0001-01-01T00:30:00+01:00",
    "9999-12-31T23:30:00-01:00",
    "9999-12-31 24:00:00",
    "2024-06-25 (BC) 10:00:00",
    "2024-06-25 (bc)T10:00:00",
    "2024-06-25 10:00:00 (BC)",
    "\x0b2026-01-05 12:34:56",
    " 0000-01-01 10:00:00",
    " 0001-01-01 00:30:00+01:00",
    "0001/01/01 00:30:00+01:00",
    "9999/12/31 24:00",
    "2026-01-05 12:34:56 (x)",
    "infinity",
    "",
    " ",
]
DATES = [
    "2026-01-05",
    "2026/01/05",
    "2026 01 05",
    "2026-1-5",
    "  2026-01-05",
    "2026-01-05 ",
    "2026-01-05x",
    "2026-01-05 10",
    "31/12/2024",
    "12/31/2024",
    "2024-12-31",
    "2025-02-30",
    "2025-13-01",
    "20241231",
    "yesterday",
    "2024.12.31",
    "2024-12/31",
    "5-1-2026",
    "-2024-06-25",
    "+2024-06-25",
    "12024-06-25",
    "024-06-25",
    "02024-06-25",
    "20-4-06",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2024-06-25 (BC)",
    "2024-06-25 (bc)x",
    "2024-06-25\t(BC)",
    "2024-06-25(BC)",
    "2024-06-25 BC",
    "2024-06-25 (AD)",
    "2024-06-25 x\ny",
    "  -2024-06-25",
    "2024-06-25 (approx.)",
    " 0000-01-01",
]
NUMBERS = [
    "0",
    "1",
    "-1",
    "+5",
    " 42 ",
    "007",
    "1.0",
    "1e3",
    "0x10",
    "",
    " ",
    "abc",
    "12a",
    "999999999999999999",
    "1000000000000000000",
    "\t12",
    "12\n",
    "86400001",
    "-5000",
    "٣",
]
WORDS = [
    "true",
    "false",
    "TRUE",
    " False ",
    "1",
    "0",
    "yes",
    "N",
    "maybe",
    "t",
    "",
    " ",
    " u1 ",
    "u1",
    '"u1"',
    "  ",
    "\tu1",
    " 26213\t",
    "\t26213\t",
    "\t u1 \t",
    "u\t1",
    "\t",
    " \t ",
    "u1\n",
    "\x01u1",
    "\u00a0u1",
]
CASES = sorted(set(TIMESTAMPS + DATES + NUMBERS + WORDS))


def _duckdb_results() -> dict[str, tuple[Any, ...]]:
    """One value per scan: DuckDB's time-zone cast can carry a zone into the next rows."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    macros = resources.files("musicstream.engines.duckdb").joinpath("macros.sql")
    con.execute(macros.read_text("utf-8"))
    query = "select " + ", ".join(f"cast({f}(x) as varchar)" for f in FUNCTIONS) + " from t"
    found = {}
    for case in CASES:
        con.execute("create or replace table t as select ?::varchar as x", [case])
        found[case] = con.execute(query).fetchone()
    return found


def _spark_text(value: Any) -> Any:
    """Spark prints a timestamp like DuckDB, bar trailing zeros of the fraction."""
    if value is None or not isinstance(value, str) or "." not in value or ":" not in value:
        return value
    return value.rstrip("0").rstrip(".")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_same_value_on_both_engines(spark: Any, function: str, results: dict) -> None:
    index = FUNCTIONS.index(function)
    wrong = {
        case: (want[index], got[index])
        for case, (want, got) in results.items()
        if want[index] != got[index]
    }
    assert not wrong


@pytest.fixture(scope="module")
def results(spark: Any) -> dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]]:
    duck = _duckdb_results()
    rows = ", ".join("(" + _quote(c) + ")" for c in CASES)
    spark.sql(f"select * from values {rows} as t(x)").createOrReplaceTempView("t")
    columns = ", ".join(f"cast({f}(x) as varchar)" for f in FUNCTIONS)
    got = {
        row[0]: tuple(_spark_text(v) for v in row[1:])
        for row in spark.sql(to_spark(f"select x, {columns} from t")).collect()
    }
    return {case: (tuple(_duck_text(v) for v in duck[case]), got[case]) for case in CASES}


def _duck_text(value: Any) -> Any:
    return _spark_text(value)


def _quote(text: str) -> str:
    return (
        "'"
        + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t")
        + "'"
    )


@pytest.mark.parametrize(
    ("case", "function", "expected"),
    [
        (" 26213\t", "ms_id", "26213"),
        ("\t u1 \t", "ms_id", "u1"),
        (" \t ", "ms_id", None),
        ("-2024-06-25 10:00:00", "ms_ts", None),
        ("+2024-06-25 10:00:00", "ms_ts", None),
        ("12024-06-25 10:00:00", "ms_ts", None),
        ("024-06-25 10:00:00", "ms_ts", None),
        ("0001-01-01T00:30:00+01:00", "ms_ts", None),
        ("0024-06-25 10:00:00", "ms_ts", "0024-06-25 10:00:00"),
        ("-2024-06-25", "ms_date_or_ts", None),
        ("2024-06-25 (BC)", "ms_date_or_ts", None),
        ("2024-12-31", "ms_date_or_ts", "2024-12-31 00:00:00"),
    ],
)
def test_spec_ids_and_years(results: dict, case: str, function: str, expected: Any) -> None:
    """SPEC §2: ids lose spaces and tabs; a signed, short or five-digit year is no time."""
    want, got = results[case]
    index = FUNCTIONS.index(function)
    assert want[index] == got[index] == expected
