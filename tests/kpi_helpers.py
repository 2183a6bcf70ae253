"""Comparing KPI tables: exact for integers and text, 1e-9 relative for floats."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS


def normalized(table: str, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    cols = list(KPI_COLUMNS[table])
    key = [cols.index(k) for k in KPI_KEYS[table]]
    out = [tuple(str(r[c]) if isinstance(r[c], date) else r[c] for c in cols) for r in rows]
    return sorted(out, key=lambda t: tuple(t[i] for i in key))


def assert_same(table: str, got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    a, b = normalized(table, got), normalized(table, want)
    assert len(a) == len(b), f"{table}: {len(a)} rows, expected {len(b)}\n{a}\n{b}"
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) or isinstance(v, float):
                assert math.isclose(u, v, rel_tol=1e-9), f"{table}: {x} != {y}"
            else:
                assert u == v, f"{table}: {x} != {y}"
