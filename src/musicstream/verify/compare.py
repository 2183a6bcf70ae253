"""The store's rows of a partition against the lake's: the same rows, in any order.

Rows are compared as the store returns them, without the folder keys (report_date; period,
period_start) a lake file does not hold. Floats agree to 12 significant digits: both stores
give back the exact double they were given (DynamoDB through a Number of its shortest repr),
so this only spares a store written some other way a false alarm in the last bits, while a
changed value still shows.

Each partition is compared whole first (:func:`same`): the store's and the lake's Arrow
tables, each sorted by all its columns, equal bit for bit. When they are, :func:`difference`
could find nothing either. When not, the partition is read again as rows, and
:func:`difference` decides (a float apart in its last bits is no difference) and says what
differs: only a partition that differs pays for rows. Measured at 10M streams (3.3M KPI
rows over 30 dates, SQLite): 21 s of CPU instead of 90 s row by row; 13 s of it the sqlite3
driver making the rows' Python values, 3 s their conversion to Arrow, 3 s the sorts, 2 s
the lake's reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS
from musicstream.lake import Lake
from musicstream.stores import Row, Store, arrow_schema, rows_of
from musicstream.verify.findings import Finding, Part, Repairs

PARTITION = ("report_date", "period", "period_start")  # folder keys, never in a lake file
SIGNIFICANT = 12  # digits of a float that must agree
# The Arrow types a lake column of each store type may have for :func:`same` to compare it
# as :func:`canonical` does (a date as ISO text, as rows_of gives it); any other is left to
# the rows.
_FITS: dict[str, tuple[Callable[[pa.DataType], bool], ...]] = {
    "str": (pa.types.is_string, pa.types.is_large_string, pa.types.is_date),
    "int": (pa.types.is_integer,),
    "float": (pa.types.is_floating,),
    "bool": (pa.types.is_boolean,),
}


def compare(
    lake: Lake,
    store: Store,
    parts: Iterable[Part],
    repairs: Repairs,
    files: set[str] | None = None,
) -> list[Finding]:
    """The parts whose store rows differ from the lake's. ``files``: the lake's KPI files
    (a part without one has no rows: no read). A difference is checked again after
    ``store.settle_s``, so a row an eventually consistent index shows late is no finding."""
    differ: list[tuple[Part, str, pa.Table | None]] = []
    for part in parts:
        lake_data = lake_table_of(lake, part, files)
        problem = part_difference(part, store, lake_data)
        if problem is not None:
            differ.append((part, problem, lake_data))
    if differ and store.settle_s > 0:
        time.sleep(store.settle_s)
        again = [(p, part_difference(p, store, data), data) for p, _, data in differ]
        differ = [(p, problem, data) for p, problem, data in again if problem is not None]
    return [Finding(p.table, p.day, problem, repairs.of(p), p.period) for p, problem, _ in differ]


def part_difference(part: Part, store: Store, lake_data: pa.Table | None) -> str | None:
    """What :func:`difference` says of a partition (``lake_data``: None without a file),
    its rows read only when its tables are not the :func:`same`."""
    with contextlib.suppress(pa.ArrowException):  # a store value not of its column's type
        if same(part.table, part.in_store_table(store), lake_data):
            return None
    lake_rows = [] if lake_data is None else rows_of(lake_data)
    return difference(part.table, part.in_store(store), lake_rows)


def same(table: str, store_data: pa.Table, lake_data: pa.Table | None) -> bool:
    """Whether a partition's table in the store and in the lake hold the same rows, bit for
    bit, in any order. True: :func:`difference` finds none. False: it may still find none
    (a float apart in its last bits, a column of another type), for it to decide."""
    if lake_data is None:
        return store_data.num_rows == 0
    ours, theirs = comparable(table, store_data), comparable(table, lake_data)
    return ours is not None and theirs is not None and ours.equals(theirs)


def comparable(table: str, data: pa.Table) -> pa.Table | None:
    """``data``'s columns but the folder keys in their store types (floats as their 64 bits:
    -0.0 is not 0.0), sorted by all of them, key first: one order for every arrangement of
    the same rows. None when a column is missing or of a type :func:`canonical` may see
    otherwise (a timestamp, text in a number column)."""
    columns, types = _columns(table), arrow_schema(table)
    arrays = [_column(data, types.field(c), KPI_COLUMNS[table][c]) for c in columns]
    if any(a is None for a in arrays):
        return None
    keys = [c for c in KPI_KEYS[table] if c in columns]
    order = [(c, "ascending") for c in (*keys, *(c for c in columns if c not in keys))]
    return pa.table(arrays, names=columns).sort_by(order)


def _column(data: pa.Table, field: pa.Field, kind: str) -> pa.ChunkedArray | None:
    """``data``'s column ``field.name`` as :func:`comparable` compares it, or None."""
    if field.name not in data.column_names:
        return None
    column = data.column(field.name)
    if not (pa.types.is_null(column.type) or any(f(column.type) for f in _FITS[kind])):
        return None
    column = column.cast(field.type)
    if kind == "float":
        return pa.chunked_array([c.view(pa.int64()) for c in column.chunks], pa.int64())
    return column


def difference(table: str, store_rows: list[Row], lake_rows: list[Row]) -> str | None:
    """What differs between a partition's rows in the store and in the lake, or None."""
    ours, theirs = canonical(table, store_rows), canonical(table, lake_rows)
    if len(ours) == len(theirs) and checksum(ours) == checksum(theirs):
        return None
    if not theirs:
        return f"store has {len(ours)} row(s) the lake lacks"
    extra, lacking = Counter(ours) - Counter(theirs), Counter(theirs) - Counter(ours)
    first = _key(table, min(extra + lacking, key=repr))
    if len(ours) != len(theirs):
        return f"store has {len(ours)} row(s), lake {len(theirs)}{first}"
    return f"checksum differs: {extra.total()} of {len(theirs)} row(s){first}"


def canonical(table: str, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
    """Each row as a tuple of its columns but the folder keys, in the store's column order,
    floats to :data:`SIGNIFICANT` digits. Every other value both stores give back as the
    lake's reader does (an int, a str, a date as ISO text)."""
    columns = _columns(table)
    floats = [i for i, c in enumerate(columns) if KPI_COLUMNS[table][c] == "float"]
    out = []
    for row in rows:
        values = [row.get(c) for c in columns]
        for i in floats:
            value = values[i]
            if value is not None:
                values[i] = float(f"{float(value):.{SIGNIFICANT}g}")
        out.append(tuple(values))
    return out


def checksum(rows: Iterable[tuple[Any, ...]]) -> str:
    """An order-independent hash of a multiset of rows: the sum of a 128-bit hash of each."""
    total = sum(
        int.from_bytes(hashlib.blake2b(repr(r).encode(), digest_size=16).digest()) for r in rows
    )
    return f"{total % 2**128:032x}"


def lake_table_of(lake: Lake, part: Part, files: set[str] | None = None) -> pa.Table | None:
    """The lake's table of a partition; None without a file (``files`` spares the GET)."""
    rel = part.file()
    if files is not None and rel not in files:
        return None
    try:
        return lake.parquet(rel).read()
    except FileNotFoundError:
        return None


def _columns(table: str) -> list[str]:
    return [c for c in KPI_COLUMNS[table] if c not in PARTITION]


def _key(table: str, row: tuple[Any, ...]) -> str:
    """`` (first difference: genre=pop)``: the key of a differing row within its partition;
    empty when the partition key is the row's whole key (active_listeners)."""
    values = dict(zip(_columns(table), row, strict=True))
    key = ", ".join(f"{k}={values[k]}" for k in KPI_KEYS[table] if k not in PARTITION)
    return f" (first difference: {key})" if key else ""
