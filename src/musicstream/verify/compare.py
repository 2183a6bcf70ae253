"""The store's rows of a partition against the lake's: the same number, the same checksum.

Rows are compared as the store returns them, without the folder keys (report_date; period,
period_start) a lake file does not hold. Floats agree to 12 significant digits: both stores
give back the exact double they were given (DynamoDB through a Number of its shortest repr),
so this only spares a store written some other way a false alarm in the last bits, while a
changed value still shows.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pyarrow.parquet as pq

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS
from musicstream.lake import Lake
from musicstream.stores import Row, Store, rows_of
from musicstream.verify.findings import Finding, Part, Repairs

PARTITION = ("report_date", "period", "period_start")  # folder keys, never in a lake file
SIGNIFICANT = 12  # digits of a float that must agree


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
    differ: list[tuple[Part, str, list[Row]]] = []
    for part in parts:
        lake_rows = lake_rows_of(lake, part, files)
        problem = difference(part.table, part.in_store(store), lake_rows)
        if problem is not None:
            differ.append((part, problem, lake_rows))
    if differ and store.settle_s > 0:
        time.sleep(store.settle_s)
        again = [(p, difference(p.table, p.in_store(store), rows), rows) for p, _, rows in differ]
        differ = [(p, problem, rows) for p, problem, rows in again if problem is not None]
    return [Finding(p.table, p.day, problem, repairs.of(p), p.period) for p, problem, _ in differ]


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


def lake_rows_of(lake: Lake, part: Part, files: set[str] | None = None) -> list[Row]:
    """The lake's rows of a partition (none without a file; ``files`` spares the GET)."""
    rel = part.file()
    if files is not None and rel not in files:
        return []
    try:
        return rows_of(pq.ParquetFile(io.BytesIO(lake.read_bytes(rel))).read())
    except FileNotFoundError:
        return []


def _columns(table: str) -> list[str]:
    return [c for c in KPI_COLUMNS[table] if c not in PARTITION]


def _key(table: str, row: tuple[Any, ...]) -> str:
    """`` (first difference: genre=pop)``: the key of a differing row within its partition;
    empty when the partition key is the row's whole key (active_listeners)."""
    values = dict(zip(_columns(table), row, strict=True))
    key = ", ".join(f"{k}={values[k]}" for k in KPI_KEYS[table] if k not in PARTITION)
    return f" (first difference: {key})" if key else ""
