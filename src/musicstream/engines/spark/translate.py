"""The shared .sql files (written in DuckDB's dialect) as Spark SQL, via sqlglot.

One definition of each rule and KPI: the files under ``musicstream/sql`` are translated, not
copied. sqlglot handles the dialect (types, NULL ordering, ``any_value``, ``string_split``);
this module adds what only we know: the ``ms_*`` parsing functions, inlined from
``macros.sql`` because Spark 3.5 has no SQL macros.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

import sqlglot
from sqlglot import exp

from musicstream.engines import sql

_DEFINITION = re.compile(r"^\s*(\w+)\(([\w, ]*)\)\s*:=\s*(.+)$", re.S)


@functools.cache
def macros() -> dict[str, tuple[list[str], exp.Expression]]:
    """``name -> (parameters, body)`` from this package's ``macros.sql``."""
    text = resources.files(__package__).joinpath("macros.sql").read_text("utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    found: dict[str, tuple[list[str], exp.Expression]] = {}
    for chunk in filter(str.strip, code.split(";")):
        match = _DEFINITION.match(chunk)
        if match is None:
            raise ValueError(f"not a macro definition: {chunk.strip()[:60]!r}")
        name, params, body = match.groups()
        names = [p.strip() for p in params.split(",") if p.strip()]
        body_ast: Any = sqlglot.parse_one(body, read="spark")
        found[str(name).lower()] = ([str(n) for n in names], body_ast)
    return found


def _inline(node: exp.Expression) -> exp.Expression:
    """Replace a call of a macro by its body, the parameters bound to the arguments."""
    if not isinstance(node, exp.Anonymous):
        return node
    definition = macros().get(str(node.this).lower())
    if definition is None:
        return node
    params, body = definition
    args = dict(zip(params, node.expressions, strict=True))

    def bind(inner: exp.Expression) -> exp.Expression:
        if isinstance(inner, exp.Column) and not inner.table and inner.name in args:
            return args[inner.name].copy()
        return inner

    return body.copy().transform(bind).transform(_inline)


def to_spark(duckdb_sql: str) -> str:
    """Translate one DuckDB query to Spark SQL, with the macros inlined."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    return tree.transform(_inline).sql(dialect="spark")


@functools.cache
def spark_sql(name: str) -> str:
    """``sql/<name>.sql`` in Spark's dialect (cached: the files do not change in a run)."""
    return to_spark(sql(name))
