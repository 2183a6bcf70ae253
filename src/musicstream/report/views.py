"""DuckDB views over a local lake: one per table of the registry (``tables.py``).

What ``musicstream.connect`` gives analysts and ``musicstream catalog duckdb`` writes into a
database file for BI tools. Each view is the table's ``read_parquet`` (``lakeio.source_sql``)
by absolute path, read when it is queried: rows a later run writes show up. The dated
partition keys (``report_date``, ``period_start``) are DATE columns, the other keys
(``period``, ``batch_id``) text; as in Athena, partition keys come after the file columns.

A table without a file yet (no run, no quarantined row) is an empty view with the same
columns and types, so a query that names it still runs; it reads files only once the views
are made again (``connect`` again, ``catalog duckdb`` again).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from musicstream.report import lakeio
from musicstream.report.lakeio import ReportError
from musicstream.report.tables import TABLES, TableSpec

_DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file


def local_root(lake: str) -> str:
    """The folder of a local lake (a path or ``file://…``) as an absolute path."""
    root = lakeio.lake_root(lake)
    if is_remote(root):
        raise ReportError(f"{root} is not a local lake")
    folder = Path(root.removeprefix("file://")).expanduser().resolve()
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise ReportError(f"no lake at {lake}: {folder} {problem}")
    return folder.as_posix()


def is_remote(lake: str) -> bool:
    """Whether the lake is an object store URL (``s3://…``) rather than a local folder."""
    return "://" in lake and not lake.startswith("file://")


def empty_sql(spec: TableSpec) -> str:
    """No rows, with the columns and types the table's files and partition keys have."""
    keys = [(key.name, lakeio.key_type(key)) for key in spec.partition]
    columns = ", ".join(f"cast(null as {kind}) as {ident(n)}" for n, kind in [*spec.columns, *keys])
    return f"select {columns} where false"


def create_views(con: duckdb.DuckDBPyConnection, root: str, names: list[str]) -> list[str]:
    """Create (or replace) the views of tables ``names`` of the lake at local ``root``;
    returns the names of those that have no file yet (empty views)."""
    empty = []
    for name in names:
        spec = TABLES[name]
        if lakeio.has_files(con, root, spec):
            sql = lakeio.source_sql(root, spec, typed_keys=True)
        else:
            sql = empty_sql(spec)
            empty.append(name)
        con.execute(f"create or replace view {ident(name)} as {sql}")
    return empty


def write_catalog(lake: str, out: Path) -> list[str]:
    """A DuckDB database file at ``out`` with a view of every table of a local lake.

    An existing database file keeps its other objects and gets its views replaced; any
    other existing file is refused, never overwritten. Returns the tables without files.
    """
    if is_remote(lakeio.lake_root(lake)):
        raise ReportError(
            f"catalog duckdb needs a local lake, not {lake}: DuckDB reads s3:// only through "
            "an extension it would have to download; use `catalog ddl` for Athena"
        )
    root = local_root(lake)
    _check_out(out)
    try:
        with duckdb.connect(str(out)) as con:
            con.begin()
            empty = create_views(con, root, list(TABLES))
            con.commit()
    except duckdb.Error as error:
        raise ReportError(f"cannot write {out}: {one_line(error)}") from None
    return empty


def _check_out(out: Path) -> None:
    """``out`` is a new file (its folder made here) or an existing DuckDB database."""
    if out.is_dir():
        raise ReportError(f"--out {out} is a folder: give the database file to write")
    if out.exists():
        with out.open("rb") as fh:
            head = fh.read(12)
        if head[8:12] != _DUCKDB_MAGIC:
            raise ReportError(f"--out {out} exists and is not a DuckDB database: not replacing it")
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ReportError(f"cannot create the folder of --out {out}: {error}") from None


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def one_line(error: Exception) -> str:
    """DuckDB's message on one line, without its context (``LINE 1: …`` and the caret)."""
    lines = []
    for line in str(error).splitlines():
        if line.startswith("LINE "):
            break
        lines.append(line.strip())
    return " ".join(line for line in lines if line) or type(error).__name__
