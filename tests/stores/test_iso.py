"""Dates and timestamps reach the store as the ISO text Python's ``isoformat()`` writes,
whichever way they are formatted (Arrow for whole seconds and dates, Python otherwise)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from musicstream.stores import column_values

UTC = dt.UTC
WHOLE = [
    dt.datetime(2026, 1, 1, 10, 0, 0),
    dt.datetime(1970, 1, 1),
    dt.datetime(2024, 2, 29, 23, 59, 59),
    None,
]
FRACTION = [dt.datetime(2026, 1, 1, 10, 0, 0, 500_000), dt.datetime(2026, 1, 1, 10, 0, 1), None]
DATES = [dt.date(2026, 1, 1), None, dt.date(1, 1, 1), dt.date(999, 12, 31), dt.date(9999, 12, 31)]


def python_iso(values: list[dt.datetime | dt.date | None]) -> list[str | None]:
    return [None if v is None else v.isoformat() for v in values]


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        pytest.param(WHOLE, pa.timestamp("s"), id="seconds"),
        pytest.param(WHOLE, pa.timestamp("ms"), id="milliseconds, whole seconds"),
        pytest.param(WHOLE, pa.timestamp("us"), id="microseconds, whole seconds"),
        pytest.param(WHOLE, pa.timestamp("ns"), id="nanoseconds, whole seconds"),
        pytest.param(
            [dt.datetime(1, 1, 1), dt.datetime(999, 12, 31, 23, 59, 59), dt.datetime(9999, 12, 31)],
            pa.timestamp("us"),
            id="the first and last years",
        ),
        pytest.param(FRACTION, pa.timestamp("us"), id="a fraction of a second"),
        pytest.param(FRACTION, pa.timestamp("ms"), id="a fraction, milliseconds"),
        pytest.param(
            [v and v.replace(tzinfo=UTC) for v in WHOLE],
            pa.timestamp("us", "UTC"),
            id="with a time zone",
        ),
        pytest.param([None, None], pa.timestamp("us"), id="no values"),
        pytest.param([], pa.timestamp("us"), id="no rows"),
        pytest.param(DATES, pa.date32(), id="dates"),
        pytest.param(DATES, pa.date64(), id="date64"),
    ],
)
def test_dates_and_timestamps_are_stored_as_python_writes_them(
    values: list[dt.datetime | dt.date | None], kind: pa.DataType
) -> None:
    table = pa.table({"at": pa.chunked_array([pa.array(values, kind)], kind)})
    assert column_values(table, "at") == python_iso(values)


def test_several_chunks_are_formatted_in_order() -> None:
    column = pa.chunked_array(
        [pa.array(WHOLE[:2], pa.timestamp("us")), pa.array(WHOLE[2:], pa.timestamp("us"))]
    )
    assert column_values(pa.table({"at": column}), "at") == python_iso(WHOLE)
