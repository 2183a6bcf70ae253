"""The analyst query library: Athena SQL files, run locally on DuckDB over the lake.

Each ``sql/<name>.sql`` is one query in the Athena (Trino) dialect, runnable as is in Athena
against the tables of ``musicstream catalog ddl`` once its parameters are bound. The first
comment lines describe it. Parameters are named placeholders, bound as literals here:

- ``:date_from``, ``:date_to`` — inclusive ``yyyy-mm-dd`` bounds on ``report_date`` (or on
  ``active_listeners``' ``period_start``), compared as strings, like the partition keys;
  unset means unbounded;
- ``:top_n`` — how many rows a ranking keeps (default 10);
- ``:user_id`` — one listener's id; unset binds ``null``, which a query reads as "every
  listener" (``user_id = coalesce(:user_id, user_id)``);
- ``:batch_ids`` — list of batch ids; Athena's injected projection needs them spelled out,
  so they are listed from the lake's ``batch_quality`` partitions within the date range.

Sums are ``cast(sum(x) as bigint)``: a no-op in Athena, where ``sum(bigint)`` is a bigint,
while DuckDB's is a 128-bit integer; so both engines return the same types.

Locally, sqlglot transpiles Trino to DuckDB and each table name becomes a ``read_parquet``
over the table's files, so the Parquet is read in place and the caller's connection gets
no views or tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from musicstream.report import lakeio
from musicstream.report.tables import TABLES

READ_DIALECT = "trino"
_UNBOUNDED = (date(1970, 1, 1), date(9999, 12, 31))


@dataclass(frozen=True)
class Params:
    """Values for a query's placeholders; ``batch_ids`` None means "list them from the lake"."""

    date_from: date | None = None
    date_to: date | None = None
    top_n: int = 10
    batch_ids: tuple[str, ...] | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise lakeio.ReportError(
                f"the period starts ({self.date_from}) after it ends ({self.date_to})"
            )
        if self.top_n < 1:
            raise lakeio.ReportError(f"top_n must be at least 1, not {self.top_n}")
        if self.user_id is not None and not self.user_id.strip():
            raise lakeio.ReportError("the user id is empty")


@dataclass(frozen=True)
class Query:
    """One library query: its name, the description from its header, its Athena SQL."""

    name: str
    description: str
    sql: str

    @property
    def summary(self) -> str:
        """The description's first sentence."""
        return self.description.split(". ")[0].removesuffix(".")


def query_names() -> list[str]:
    """Names of all library queries, sorted."""
    files = resources.files("musicstream.report").joinpath("sql").iterdir()
    return sorted(f.name.removesuffix(".sql") for f in files if f.name.endswith(".sql"))


def library_listing() -> str:
    """One line per library query: its name and the first sentence of its description."""
    names = query_names()
    width = max(map(len, names), default=0)
    return "\n".join(f"{q.name:<{width}}  {q.summary}" for q in map(load_query, names))


def load_query(name: str) -> Query:
    """The named query; ReportError listing the valid names when there is none."""
    if name not in query_names():
        names = ", ".join(query_names())
        raise lakeio.ReportError(f"unknown query {name!r}; choose one of: {names}")
    text = resources.files("musicstream.report").joinpath("sql", f"{name}.sql").read_text("utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("--") or line.startswith("-- params:"):
            break
        header.append(line.removeprefix("--").strip())
    return Query(name, " ".join(header), text)


def bind(sql: str, values: dict[str, object]) -> exp.Expr:
    """Parse Trino SQL and replace each ``:name`` placeholder by the literal of its value.

    Binding on the syntax tree, not by string formatting, keeps values from ever being
    read as SQL. A list value expands an ``in (:name)`` list; an empty list matches nothing;
    None is ``null``.
    """
    tree = sqlglot.parse_one(sql, read=READ_DIALECT)
    for node in list(tree.find_all(exp.Placeholder)):
        if node.name not in values:
            raise lakeio.ReportError(f"no value for the query parameter :{node.name}")
        value = values[node.name]
        if not isinstance(value, list | tuple):
            node.replace(_literal(value))
        elif isinstance(node.parent, exp.In):
            node.parent.set("expressions", [_literal(v) for v in value] or [exp.Null()])
        else:
            raise lakeio.ReportError(f"the list parameter :{node.name} must be in an in (…)")
    return tree


def _literal(value: object) -> exp.Expr:
    if value is None:
        return exp.Null()
    if isinstance(value, bool) or not isinstance(value, int | float | str | date):
        raise TypeError(f"cannot bind {value!r} as a SQL literal")
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(value.isoformat() if isinstance(value, date) else value)


def placeholders(sql: str) -> set[str]:
    """Names of the ``:name`` placeholders a query uses."""
    return {p.name for p in sqlglot.parse_one(sql, read=READ_DIALECT).find_all(exp.Placeholder)}


def param_values(params: Params, batch_ids: tuple[str, ...] = ()) -> dict[str, object]:
    """The placeholder values of a query, with unset date bounds opened wide."""
    return {
        "date_from": params.date_from or _UNBOUNDED[0],
        "date_to": params.date_to or _UNBOUNDED[1],
        "top_n": params.top_n,
        "user_id": params.user_id,
        "batch_ids": list(params.batch_ids if params.batch_ids is not None else batch_ids),
    }


def athena_sql(
    con: duckdb.DuckDBPyConnection, lake: str, name: str, params: Params = Params()
) -> str:
    """The query as Athena would run it, parameters bound (batch ids listed from the lake)."""
    query = load_query(name)
    tree = bind(query.sql, param_values(params, _batch_ids(con, lake, query, params)))
    return tree.sql(dialect=READ_DIALECT, pretty=True)


def duckdb_sql(lake: str, query: Query, values: dict[str, object]) -> str:
    """The query transpiled to DuckDB, each lake table read in place with ``read_parquet``."""
    tree = bind(query.sql, values)
    for table in _lake_tables(tree):
        table.replace(_read_parquet(lake, table.name).subquery(table.alias_or_name))
    return tree.sql(dialect="duckdb")


def _lake_tables(tree: exp.Expr) -> list[exp.Table]:
    """The references to lake tables in a query (not to its CTEs or qualified tables)."""
    ctes = {cte.alias for cte in tree.find_all(exp.CTE)}
    return [
        t for t in tree.find_all(exp.Table) if t.name in TABLES and not t.db and t.name not in ctes
    ]


def _read_parquet(lake: str, name: str) -> exp.Query:
    source = sqlglot.parse_one(lakeio.source_sql(lake, TABLES[name]), read="duckdb")
    assert isinstance(source, exp.Query)
    return source


def run_query(
    con: duckdb.DuckDBPyConnection, lake: str, name: str, params: Params = Params()
) -> pa.Table:
    """Run a library query on DuckDB over the lake; LakeDataMissing if a table has no files."""
    query = load_query(name)
    for table in tables_used(query.sql):
        lakeio.require_table(con, lake, table)
    values = param_values(params, _batch_ids(con, lake, query, params))
    return con.sql(duckdb_sql(lake, query, values)).to_arrow_table()


def tables_used(sql: str) -> list[str]:
    """The lake tables a query reads, sorted."""
    return sorted({t.name for t in _lake_tables(sqlglot.parse_one(sql, read=READ_DIALECT))})


def tables_read(name: str) -> list[str]:
    """The lake tables running query ``name`` reads: its own, and batch_quality where its
    batch ids are listed from the lake."""
    query = load_query(name)
    extra = ["batch_quality"] if "batch_ids" in placeholders(query.sql) else []
    return sorted({*tables_used(query.sql), *extra})


def _batch_ids(
    con: duckdb.DuckDBPyConnection, lake: str, query: Query, params: Params
) -> tuple[str, ...]:
    if "batch_ids" not in placeholders(query.sql) or params.batch_ids is not None:
        return ()
    return tuple(lakeio.batch_ids(con, lake, params.date_from, params.date_to))
