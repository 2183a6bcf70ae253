"""The query library's mechanics: Athena SQL out, parameter binding, documentation, errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from musicstream.report import queries
from musicstream.report.lakeio import LakeDataMissing, ReportError
from musicstream.report.queries import Params, run_query

D1, D3 = date(2026, 1, 5), date(2026, 1, 12)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@pytest.mark.parametrize("name", queries.query_names())
def test_athena_sql_is_bound_trino_over_catalog_tables(
    con: duckdb.DuckDBPyConnection, kpi_lake: str, name: str
) -> None:
    sql = queries.athena_sql(con, kpi_lake, name, Params(D1, D3))
    tree = sqlglot.parse_one(sql, read="trino")
    assert not list(tree.find_all(exp.Placeholder))
    assert {t.name for t in tree.find_all(exp.Table)} & set(queries.TABLES)
    assert "read_parquet" not in sql.lower()


@pytest.mark.parametrize("name", queries.query_names())
def test_query_files_are_documented_lowercase_cte_sql(name: str) -> None:
    query = queries.load_query(name)
    assert query.description
    params_line = next(line for line in query.sql.splitlines() if line.startswith("-- params:"))
    assert {p for p in queries.placeholders(query.sql) if f":{p}" not in params_line} == set()
    code = [line for line in query.sql.splitlines() if not line.startswith("--")]
    assert all(line == line.lower() for line in code)
    assert code[0].startswith("with ")


def test_library_covers_the_issue() -> None:
    assert set(queries.query_names()) >= {
        "genre_trend_daily",
        "genre_trend_weekly",
        "country_plays",
        "top_artists",
        "genre_share",
        "listener_engagement",
        "quality_by_batch",
    }


def test_binding_is_literal_not_sql() -> None:
    tree = queries.bind("select 1 from t where a = :x", {"x": "x' or 1=1 --"})
    where = tree.find(exp.Where)
    assert where is not None
    assert isinstance(where.this, exp.EQ) and where.this.expression.this == "x' or 1=1 --"


def test_empty_list_parameter_matches_nothing() -> None:
    tree = queries.bind("select 1 from t where b in (:ids)", {"ids": []})
    assert "IN (NULL)" in tree.sql("duckdb")


def test_unknown_query_lists_the_names() -> None:
    with pytest.raises(ReportError, match="genre_share"):
        queries.load_query("nope")


def test_missing_table_is_reported(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(LakeDataMissing, match="no genre_daily data"):
        run_query(con, str(tmp_path), "genre_share")


def test_reversed_period_is_refused() -> None:
    with pytest.raises(ReportError, match="after it ends"):
        Params(D3, D1)


def test_file_url_lake(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = run_query(con, f"file://{kpi_lake}/", "listener_engagement")
    assert got.column("report_date").to_pylist() == [D1, date(2026, 1, 6), D3]
