"""musicstream: music-streaming analytics — raw exports in, trustworthy daily KPIs out.

For analysts: ``musicstream.connect(lake)`` (a DuckDB connection with a view per lake table)
and ``musicstream.read_kpis(table, lake=…, …)`` (one KPI table as Arrow), from
``musicstream.analyst``. They load on first use, so ``import musicstream`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from musicstream.analyst import connect, read_kpis

__version__ = "0.1.0"
__all__ = ["__version__", "connect", "read_kpis"]

_LAZY = {"connect": "musicstream.analyst", "read_kpis": "musicstream.analyst"}


def __getattr__(name: str) -> Any:
    """``connect`` and ``read_kpis``, imported (with duckdb) when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
