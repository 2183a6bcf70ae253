"""Reading landing CSVs with DuckDB: one pass, all text, broken records kept aside.

Each file is appended to ``raw_<dataset>_rows`` in file order, so the table's rowid is a
stable ordinal (first row of a key wins). Clean files take the fast path; a file with a
broken record is read again with DuckDB's reject tables, which keep the record and its line.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from musicstream.datasets import BY_NAME
from musicstream.engines import FileSpec


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_select(dataset: str, spec: FileSpec, rejects: bool) -> str:
    """SELECT of one file's rows under our column names, with its file index."""
    columns = ", ".join(f"{_quote(name)}: 'VARCHAR'" for name in spec.header)
    projected = ", ".join(
        f'"{c}"' if c in spec.header else f'cast(null as varchar) as "{c}"'
        for c in BY_NAME[dataset].columns
    )
    reason = _quote(spec.file_reason) if spec.file_reason else "cast(null as varchar)"
    options = (
        f", store_rejects = true, rejects_table = 'rejects_{dataset}_{spec.index}', "
        f"rejects_scan = 'rejects_scan_{dataset}_{spec.index}'"
        if rejects
        else ""
    )
    return (
        f"select {projected}, {spec.index} as _file_idx, {reason} as _file_reason "
        f"from read_csv({_quote(spec.uri)}, header = true, columns = {{{columns}}}, "
        "delim = ',', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true"
        f"{options})"
    )


def _empty_select(dataset: str) -> str:
    columns = ", ".join(f'cast(null as varchar) as "{c}"' for c in BY_NAME[dataset].columns)
    return f"select {columns}, 0 as _file_idx, cast(null as varchar) as _file_reason where false"


def read_raw(con: duckdb.DuckDBPyConnection, dataset: str, files: Sequence[FileSpec]) -> None:
    """Create ``raw_<dataset>`` (parsed rows, ``_ord`` = rowid), ``malformed_<dataset>``
    (broken records with their line) and ``file_offsets_<dataset>`` (first _ord per file)."""
    rows = f"raw_{dataset}_rows"
    con.execute(f"create or replace temp table {rows} as {_empty_select(dataset)}")
    malformed, offsets = [], []
    for spec in files:
        first = _row_count(con, rows)
        offsets.append(f"({spec.index}, {first})")
        if not spec.header:
            continue  # an empty file: no header, no rows
        try:
            con.execute(f"insert into {rows} {_file_select(dataset, spec, rejects=False)}")
        except duckdb.Error:  # a broken record: read again, keeping the rejects aside
            con.execute(f"insert into {rows} {_file_select(dataset, spec, rejects=True)}")
            malformed.append(
                f"select {spec.index} as _file_idx, line, any_value(csv_line) as raw_record "
                f"from rejects_{dataset}_{spec.index} group by line"
            )
    con.execute(f"create or replace temp view raw_{dataset} as select *, rowid as _ord from {rows}")
    empty = "select 0 as _file_idx, cast(0 as ubigint) as line, '' as raw_record where false"
    con.execute(
        f"create or replace temp table malformed_{dataset} as "
        + " union all ".join([*malformed, empty])
    )
    con.execute(
        f"create or replace temp table file_offsets_{dataset} as select * from (values "
        + ", ".join([*offsets, "(-1, 0)"])
        + ") t(_file_idx, first_ord)"
    )


def _row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    found = con.execute(f"select count(*) from {table}").fetchone()
    return int(found[0]) if found else 0
