"""Output equality: another pipeline's KPI tables against musicstream's lake KPI Parquet.

Rows are matched on the SPEC §5 key; integers and text must be equal, floats within 1e-9
relative (SPEC §6). A table differs by the rows missing on either side plus the matched rows
whose values differ; rank() ties show up as both.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS, KPIS
from musicstream.schema import DATE

REL_TOL = 1e-9


@dataclass(frozen=True)
class TableDiff:
    """How one KPI table compares: rows on each side and rows that do not match."""

    table: str
    rows_ours: int
    rows_theirs: int
    differing: int

    @property
    def equal(self) -> bool:
        return self.differing == 0 and self.rows_ours == self.rows_theirs


def verdict(diffs: list[TableDiff]) -> str:
    """``equal`` or which tables differ and by how many rows."""
    bad = [d for d in diffs if not d.equal]
    if not bad:
        return "equal"
    return "differs: " + ", ".join(f"{d.table} {d.differing}/{d.rows_ours} rows" for d in bad)


def lake_table(lake: Path, table: str) -> pa.Table:
    """One KPI table of a lake, dates as ISO text (report_date; period_start, period_end),
    columns in ``KPI_COLUMNS`` order."""
    files = sorted(str(p) for p in (lake / "kpis" / table).rglob("*.parquet"))
    kpi = KPIS[table]
    dates = {name for name, kind in kpi.partition + kpi.columns if kind == DATE}
    cols = ", ".join(
        f"cast({c} as varchar) as {c}" if c in dates else c for c in KPI_COLUMNS[table]
    )
    if not files:
        return duckdb.sql(
            f"select {cols} from (select {_empty(table)}) where false"
        ).to_arrow_table()
    return duckdb.sql(
        f"select {cols} from read_parquet({files!r}, hive_partitioning = true)"
    ).to_arrow_table()


def sqlite_table(path: Path, table: str) -> pa.Table:
    """One KPI table of a peer's SQLite store."""
    con = sqlite3.connect(path)
    try:
        cur = con.execute(f"select {', '.join(KPI_COLUMNS[table])} from {table}")
        rows = cur.fetchall()
    finally:
        con.close()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in KPI_COLUMNS[table]]
    return pa.table({c: list(v) for c, v in zip(KPI_COLUMNS[table], columns, strict=True)})


def diff_table(table: str, ours: pa.Table, theirs: pa.Table) -> TableDiff:
    """Compare two versions of ``table`` on its key."""
    con = duckdb.connect()
    try:
        con.register("ours", ours)
        con.register("theirs", theirs)
        keys = KPI_KEYS[table]
        on = " and ".join(f"o.{k} = t.{k}" for k in keys)
        row = con.execute(f"""
            select count(*) from ours as o full join theirs as t on {on}
            where o.{keys[0]} is null or t.{keys[0]} is null or {_mismatch(table)}""").fetchone()
    finally:
        con.close()
    return TableDiff(table, ours.num_rows, theirs.num_rows, int(row[0]) if row else 0)


def compare_lake(ours: Path, theirs: Path) -> list[TableDiff]:
    """Every KPI table of lake ``ours`` against lake ``theirs``."""
    return [diff_table(t, lake_table(ours, t), lake_table(theirs, t)) for t in KPI_COLUMNS]


def compare_sqlite(ours: Path, store: Path) -> list[TableDiff]:
    """Every KPI table of lake ``ours`` against a peer's SQLite ``store``."""
    return [diff_table(t, lake_table(ours, t), sqlite_table(store, t)) for t in KPI_COLUMNS]


def _mismatch(table: str) -> str:
    """SQL true when a matched row's non-key values differ."""
    terms = []
    for col, kind in KPI_COLUMNS[table].items():
        if col in KPI_KEYS[table]:
            continue
        if kind == "float":
            terms.append(
                f"abs(o.{col} - t.{col}) > {REL_TOL} * greatest(abs(o.{col}), abs(t.{col}))"
                f" or (o.{col} is null) <> (t.{col} is null)"
            )
        else:
            terms.append(f"o.{col}::varchar is distinct from t.{col}::varchar")
    return "(" + " or ".join(terms) + ")"


def _empty(table: str) -> str:
    """A select list of typed NULLs with the table's column names."""
    types = {"str": "varchar", "int": "bigint", "float": "double", "bool": "boolean"}
    return ", ".join(f"null::{types[k]} as {c}" for c, k in KPI_COLUMNS[table].items())
