"""Reading landing CSVs with DuckDB: one pass, all text, broken records kept aside."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from musicstream.datasets import BY_NAME
from musicstream.engines import FileSpec


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_select(dataset: str, spec: FileSpec) -> str:
    """SELECT of one file's rows under our column names, with file index and ordinal."""
    columns = ", ".join(f"{_quote(name)}: 'VARCHAR'" for name in spec.header)
    projected = ", ".join(
        f'"{c}"' if c in spec.header else f'cast(null as varchar) as "{c}"'
        for c in BY_NAME[dataset].columns
    )
    reason = _quote(spec.file_reason) if spec.file_reason else "cast(null as varchar)"
    return (
        f"select {projected}, {spec.index} as _file_idx, row_number() over () as _ord, "
        f"{reason} as _file_reason "
        f"from read_csv({_quote(spec.uri)}, header = true, columns = {{{columns}}}, "
        "delim = ',', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, "
        f"store_rejects = true, rejects_table = 'rejects_{dataset}_{spec.index}', "
        f"rejects_scan = 'rejects_scan_{dataset}_{spec.index}')"
    )


def _empty_select(dataset: str, spec: FileSpec) -> str:
    columns = ", ".join(f'cast(null as varchar) as "{c}"' for c in BY_NAME[dataset].columns)
    return (
        f"select {columns}, {spec.index} as _file_idx, cast(0 as bigint) as _ord, "
        "cast(null as varchar) as _file_reason where false"
    )


def read_raw(con: duckdb.DuckDBPyConnection, dataset: str, files: Sequence[FileSpec]) -> None:
    """Create ``raw_<dataset>`` (parsed rows) and ``malformed_<dataset>`` (broken records)."""
    selects = [
        _file_select(dataset, spec) if spec.header else _empty_select(dataset, spec)
        for spec in files
    ]
    body = (
        " union all ".join(selects) if selects else _empty_select(dataset, FileSpec(0, "", "", ()))
    )
    con.execute(f"create or replace temp table raw_{dataset} as {body}")
    malformed = [
        f"select {spec.index} as _file_idx, line, any_value(csv_line) as raw_record "
        f"from rejects_{dataset}_{spec.index} group by line"
        for spec in files
        if spec.header
    ]
    empty = "select 0 as _file_idx, cast(0 as ubigint) as line, '' as raw_record where false"
    con.execute(
        f"create or replace temp table malformed_{dataset} as "
        + " union all ".join([*malformed, empty])
    )
