"""The query library's mechanics: Athena SQL out, parameter binding, documentation, errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from musicstream.report import lakeio, queries
from musicstream.report.lakeio import LakeDataMissing, ReportError
from musicstream.report.queries import Params, run_query
from musicstream.report.tables import TABLES

from .test_queries import build_listener_tables

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
        "user_activity_trend",
        "active_listeners_weekly",
        "active_listeners_monthly",
        "dau_mau_stickiness",
        "hourly_heatmap",
        "top_listeners",
    }


def test_binding_is_literal_not_sql() -> None:
    tree = queries.bind("select 1 from t where a = :x", {"x": "x' or 1=1 --"})
    where = tree.find(exp.Where)
    assert where is not None
    assert isinstance(where.this, exp.EQ) and where.this.expression.this == "x' or 1=1 --"


def test_empty_list_parameter_matches_nothing() -> None:
    tree = queries.bind("select 1 from t where b in (:ids)", {"ids": []})
    assert "IN (NULL)" in tree.sql("duckdb")


def test_unset_user_id_binds_null_and_a_given_one_a_string(
    con: duckdb.DuckDBPyConnection, kpi_lake: str
) -> None:
    every = queries.athena_sql(con, kpi_lake, "user_activity_trend")
    assert "user_id = COALESCE(NULL, user_id)" in every
    one = queries.athena_sql(con, kpi_lake, "user_activity_trend", Params(user_id="u'1"))
    assert "user_id = COALESCE('u''1', user_id)" in one  # a literal, quote escaped


@pytest.mark.parametrize("user_id", ["", "  "])
def test_empty_user_id_is_refused(user_id: str) -> None:
    with pytest.raises(ReportError, match="user id is empty"):
        Params(user_id=user_id)


def test_listener_queries_prune_on_the_partition_keys() -> None:
    """Athena reads only the partitions a query names: every listener query filters its
    table's partition keys (report_date; period and period_start) in its where clause."""
    keys = {"user_daily": {"report_date"}, "hourly_activity": {"report_date"}}
    keys["active_listeners"] = {"period", "period_start"}
    names = ["user_activity_trend", "active_listeners_weekly", "active_listeners_monthly"]
    for name in [*names, "dau_mau_stickiness", "hourly_heatmap", "top_listeners"]:
        tree = sqlglot.parse_one(queries.load_query(name).sql, read="trino")
        for select in tree.find_all(exp.Select):
            table = select.args["from_"].this if select.args.get("from_") else None
            if isinstance(table, exp.Table) and table.name in keys:
                where = select.args.get("where")
                filtered = {c.name for c in where.find_all(exp.Column)} if where else set()
                assert keys[table.name] <= filtered, (name, table.name)


def test_unknown_query_lists_the_names() -> None:
    with pytest.raises(ReportError, match="genre_share"):
        queries.load_query("nope")


def test_missing_table_is_reported(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(LakeDataMissing, match="no genre_daily data"):
        run_query(con, str(tmp_path), "genre_share")


def test_reversed_period_is_refused() -> None:
    with pytest.raises(ReportError, match="after it ends"):
        Params(D3, D1)


def test_every_partition_key_is_read_from_the_path_as_a_string(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    lake = str(build_listener_tables(tmp_path))
    spec = TABLES["active_listeners"]
    assert spec.file_glob == "kpis/active_listeners/*/*/*.parquet"
    described = con.sql(f"describe {lakeio.source_sql(lake, spec)}").fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["period"] == types["period_start"] == "VARCHAR"
    assert types["period_end"] == "DATE"
    keys = con.sql(f"select distinct period, period_start from ({lakeio.source_sql(lake, spec)})")
    assert ("week", "2026-01-12") in keys.fetchall()


def test_file_url_lake(con: duckdb.DuckDBPyConnection, kpi_lake: str) -> None:
    got = run_query(con, f"file://{kpi_lake}/", "listener_engagement")
    assert got.column("report_date").to_pylist() == [D1, date(2026, 1, 6), D3]
