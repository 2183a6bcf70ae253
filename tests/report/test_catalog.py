"""Athena DDL: parses as Athena/Trino SQL, matches the Parquet files, projects the real paths."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from musicstream.report.catalog import render_ddl
from musicstream.report.lakeio import ReportError

# Athena (Hive DDL) type -> the type DuckDB reports for the Parquet column
DUCKDB_TYPE = {
    "TEXT": "VARCHAR",
    "BIGINT": "BIGINT",
    "INT": "INTEGER",
    "DOUBLE": "DOUBLE",
    "TIMESTAMP": "TIMESTAMP",
    "BOOLEAN": "BOOLEAN",
}
ALL_TABLES = {
    "genre_daily",
    "top_songs_daily",
    "top_genres_daily",
    "track_daily",
    "country_daily",
    "top_artists_daily",
    "batch_quality",
    "streams",
    "songs",
    "users",
}


def tables(ddl: str, dialect: str = "athena") -> dict[str, exp.Create]:
    """The CREATE TABLE statements of the DDL by table name."""
    statements = sqlglot.parse(ddl, read=dialect)
    creates = [s for s in statements if isinstance(s, exp.Create) and s.kind == "TABLE"]
    return {c.this.this.name: c for c in creates}


def prop(create: exp.Create, kind: type[exp.Expr]) -> exp.Expr | None:
    return next(iter(create.find_all(kind)), None)


def tbl_properties(create: exp.Create) -> dict[str, str]:
    """The key/value TBLPROPERTIES (plain Property nodes, not LOCATION & co.)."""
    pairs = [p for p in create.find_all(exp.Property) if type(p) is exp.Property]
    return {p.this.this: p.args["value"].this for p in pairs}


def columns(create: exp.Create) -> list[tuple[str, str]]:
    schema = create.this
    return [(c.name, c.args["kind"].this.name) for c in schema.expressions]


def test_every_statement_parses_in_athena_and_trino(kpi_lake: str) -> None:
    ddl = render_ddl(kpi_lake)
    # Athena DDL quotes identifiers with backticks (Hive); sqlglot's athena dialect is
    # Trino with Athena's DDL rules. Trino's own tokenizer only knows double quotes.
    assert set(tables(ddl, "athena")) == ALL_TABLES
    assert set(tables(ddl.replace("`", '"'), "trino")) == ALL_TABLES
    first = sqlglot.parse(ddl, read="athena")[0]
    assert first is not None and first.args["kind"] == "DATABASE"


def test_columns_match_the_parquet_files(kpi_lake: str) -> None:
    con = duckdb.connect()
    for name, create in tables(render_ddl(kpi_lake)).items():
        files = sorted(Path(kpi_lake).rglob("*.parquet"))
        sample = next(f for f in files if f"/{name}/" in f.as_posix())
        described = con.execute(
            f"describe select * from read_parquet('{sample}', hive_partitioning = false)"
        ).fetchall()
        in_file = [(row[0], row[1]) for row in described]
        declared = [(col, DUCKDB_TYPE[kind]) for col, kind in columns(create)]
        assert declared == in_file, name


def test_partitions_and_projection(kpi_lake: str) -> None:
    creates = tables(render_ddl(kpi_lake))
    for name in ALL_TABLES - {"songs", "users", "batch_quality"}:
        props = tbl_properties(creates[name])
        assert props["projection.enabled"] == "true"
        assert props["projection.report_date.type"] == "date"
        assert props["projection.report_date.format"] == "yyyy-MM-dd"
        assert props["projection.report_date.range"] == "2020-01-01,NOW"
        partition = prop(creates[name], exp.PartitionedByProperty)
        assert partition is not None and partition.this.expressions[0].name == "report_date"
    assert tbl_properties(creates["batch_quality"])["projection.batch_id.type"] == "injected"
    assert prop(creates["songs"], exp.PartitionedByProperty) is None
    assert tbl_properties(creates["songs"]) == {}


def test_locations_and_templates_point_at_the_lake_layout(kpi_lake: str) -> None:
    creates = tables(render_ddl(kpi_lake))
    for name, create in creates.items():
        location = prop(create, exp.LocationProperty)
        assert location is not None
        url = location.this.this
        assert url.startswith("file:///") and url.endswith("/")
        folder = Path(urlparse(url).path)
        assert folder.is_dir(), name
        template = tbl_properties(create).get("storage.location.template")
        if template:
            key = "batch_id" if name == "batch_quality" else "report_date"
            value = "20260105T090000Z-aaaa1111" if key == "batch_id" else "2026-01-05"
            filled = template.replace("${" + key + "}", value)
            assert list(Path(urlparse(filled).path).glob("*.parquet")), filled


def test_s3_lake_url_is_used_as_given() -> None:
    creates = tables(render_ddl("s3://bucket/lake/", database="analytics"))
    location = prop(creates["genre_daily"], exp.LocationProperty)
    assert location is not None and location.this.this == "s3://bucket/lake/kpis/genre_daily/"
    assert creates["genre_daily"].this.this.db == "analytics"
    template = tbl_properties(creates["batch_quality"])["storage.location.template"]
    assert template == "s3://bucket/lake/kpis/batch_quality/batch_id=${batch_id}/"


def test_projection_start_is_configurable() -> None:
    from datetime import date

    ddl = render_ddl("s3://b/l", projection_start=date(2024, 3, 1))
    props = tbl_properties(tables(ddl)["streams"])
    assert props["projection.report_date.range"] == "2024-03-01,NOW"


@pytest.mark.parametrize("database", ["Bad-Name", "x;drop", ""])
def test_bad_database_name_is_refused(database: str) -> None:
    with pytest.raises(ReportError, match="database"):
        render_ddl("s3://b/l", database=database)
