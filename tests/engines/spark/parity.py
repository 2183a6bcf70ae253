"""What must be identical between a DuckDB lake and a Spark lake after the same runs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from musicstream.datasets import KPIS

REL_TOL = 1e-9


def _rows(lake: Path, pattern: str) -> list[dict[str, Any]]:
    """All rows of the Parquet files matching ``pattern``, hive keys from the path added."""
    rows = []
    for part in sorted(lake.glob(pattern)):
        keys = dict(p.split("=", 1) for p in part.relative_to(lake).parts if "=" in p)
        rows += [{**keys, **row} for row in pq.read_table(part).to_pylist()]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def _types(lake: Path) -> list[dict[str, Any]]:
    """Each table's column types, as its Parquet files hold them (not their nullability:
    Spark marks the columns it knows are never NULL)."""
    found = set()
    for part in lake.glob("*/*/**/*.parquet"):
        rel = part.relative_to(lake)
        if rel.parts[0] != "_state":
            columns = tuple((f.name, str(f.type)) for f in pq.read_schema(part))
            found.add(("/".join(rel.parts[:2]), columns))
    return [{"table": table, "columns": list(columns)} for table, columns in sorted(found)]


def snapshot(lake: Path) -> dict[str, Any]:
    """Everything a user can observe in the lake, as comparable plain data."""
    manifests = [json.loads(p.read_text()) for p in sorted(lake.glob("_state/batches/*.json"))]
    for m in manifests:
        m.pop("duration_s", None)
        m.pop("timings", None)
        m.pop("stages", None)
        m.pop("loaded_at", None)
        for f in m["files"]:  # when and where each lake staged its copy
            for volatile in ("landed", "version", "staged"):
                f.pop(volatile, None)
    shot: dict[str, Any] = {
        f"kpis/{t}": _rows(lake, f"kpis/{t}/{'*/' * len(KPIS[t].partition)}data.parquet")
        for t in KPIS
    }
    shot["batch_quality"] = _rows(lake, "kpis/batch_quality/*/data.parquet")
    for dataset in ("songs", "users", "streams", "files"):
        shot[f"quarantine/{dataset}"] = _rows(lake, f"quarantine/{dataset}/*/*.parquet")
    shot["curated/streams"] = _rows(lake, "curated/streams/*/*.parquet")
    shot["curated/songs"] = _rows(lake, "curated/songs/*.parquet")
    shot["curated/users"] = _rows(lake, "curated/users/*.parquet")
    shot["types"] = _types(lake)
    shot["ledger"] = [
        {k: m.get(k) for k in ("batch_id", "status", "dates", "quality", "files")}
        for m in manifests
    ]
    return shot


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0)
    return bool(a == b)


def differences(a: dict[str, Any], b: dict[str, Any], limit: int = 5) -> list[str]:
    """Human-readable differences between two snapshots (empty when identical)."""
    found = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key, []), b.get(key, [])
        if len(left) != len(right):
            found.append(f"{key}: {len(left)} rows vs {len(right)}")
            continue
        for x, y in zip(left, right, strict=True):
            same = isinstance(x, dict) and x.keys() == y.keys()
            same = same and all(_close(x[k], y[k]) for k in x)
            if not same and x != y:
                found.append(f"{key}:\n  duckdb {x}\n  spark  {y}")
                break
    return found[:limit]


def assert_same(duck: Path, spark: Path) -> dict[str, Any]:
    """Fail with the first differences when the two lakes differ; return one snapshot."""
    a, b = snapshot(duck), snapshot(spark)
    diff = differences(a, b)
    assert not diff, "\n".join(diff)
    return a
