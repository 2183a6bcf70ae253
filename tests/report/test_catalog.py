"""Athena DDL: parses as Athena/Trino SQL, matches the Parquet files, projects the real paths."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from musicstream.report.catalog import render_ddl
from musicstream.report.lakeio import ReportError

from .test_queries import build_listener_tables

# Athena (Hive DDL) type -> the type DuckDB reports for the Parquet column
DUCKDB_TYPE = {
    "TEXT": "VARCHAR",
    "BIGINT": "BIGINT",
    "INT": "INTEGER",
    "DOUBLE": "DOUBLE",
    "TIMESTAMP": "TIMESTAMP",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
}
ALL_TABLES = {
    "genre_daily",
    "top_songs_daily",
    "top_genres_daily",
    "track_daily",
    "country_daily",
    "top_artists_daily",
    "user_daily",
    "hourly_activity",
    "active_listeners",
    "batch_quality",
    "streams",
    "songs",
    "users",
}


@pytest.fixture(scope="module")
def lake(kpi_lake: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The fixture lake with the listener tables: every table of the catalog has files."""
    root = tmp_path_factory.mktemp("catalog") / "lake"
    shutil.copytree(kpi_lake, root)
    return str(build_listener_tables(root))


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


def test_every_statement_parses_in_athena_and_trino(lake: str) -> None:
    ddl = render_ddl(lake)
    # Athena DDL quotes identifiers with backticks (Hive); sqlglot's athena dialect is
    # Trino with Athena's DDL rules. Trino's own tokenizer only knows double quotes.
    assert set(tables(ddl, "athena")) == ALL_TABLES
    assert set(tables(ddl.replace("`", '"'), "trino")) == ALL_TABLES
    first = sqlglot.parse(ddl, read="athena")[0]
    assert first is not None and first.args["kind"] == "DATABASE"


def test_columns_match_the_parquet_files(lake: str) -> None:
    con = duckdb.connect()
    for name, create in tables(render_ddl(lake)).items():
        files = sorted(Path(lake).rglob("*.parquet"))
        sample = next(f for f in files if f"/{name}/" in f.as_posix())
        described = con.execute(
            f"describe select * from read_parquet('{sample}', hive_partitioning = false)"
        ).fetchall()
        in_file = [(row[0], row[1]) for row in described]
        declared = [(col, DUCKDB_TYPE[kind]) for col, kind in columns(create)]
        assert declared == in_file, name


def test_partitions_and_projection(lake: str) -> None:
    creates = tables(render_ddl(lake))
    for name in ALL_TABLES - {"songs", "users", "batch_quality", "active_listeners"}:
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


def test_two_partition_keys_are_both_projected(lake: str) -> None:
    create = tables(render_ddl(lake))["active_listeners"]
    partition = prop(create, exp.PartitionedByProperty)
    assert partition is not None
    keys = [(c.name, c.args["kind"].this.name) for c in partition.this.expressions]
    assert keys == [("period", "TEXT"), ("period_start", "TEXT")]  # outermost first
    props = tbl_properties(create)
    assert {k: v for k, v in props.items() if k.startswith("projection.")} == {
        "projection.enabled": "true",
        "projection.period.type": "enum",
        "projection.period.values": "day,week,month",
        "projection.period_start.type": "date",
        "projection.period_start.format": "yyyy-MM-dd",
        "projection.period_start.range": "2020-01-01,NOW",
        "projection.period_start.interval": "1",
        "projection.period_start.interval.unit": "DAYS",
    }
    template = props["storage.location.template"]
    assert template.endswith(
        "/kpis/active_listeners/period=${period}/period_start=${period_start}/"
    )


def test_locations_and_templates_point_at_the_lake_layout(lake: str) -> None:
    creates = tables(render_ddl(lake))
    for name, create in creates.items():
        location = prop(create, exp.LocationProperty)
        assert location is not None
        url = location.this.this
        assert url.startswith("file:///") and url.endswith("/")
        folder = Path(urlparse(url).path)
        assert folder.is_dir(), name
        template = tbl_properties(create).get("storage.location.template")
        if template:
            filled = template
            for key, value in PARTITION_VALUES.items():
                filled = filled.replace("${" + key + "}", value)
            assert "$" not in filled, filled
            assert list(Path(urlparse(filled).path).glob("*.parquet")), filled


# A partition of the fixture lake for each partition key (fills the location templates)
PARTITION_VALUES = {
    "report_date": "2026-01-05",
    "batch_id": "20260105T090000Z-aaaa1111",
    "period": "week",
    "period_start": "2026-01-05",
}


def test_s3_lake_url_is_used_as_given() -> None:
    creates = tables(render_ddl("s3://bucket/lake/", database="analytics"))
    location = prop(creates["genre_daily"], exp.LocationProperty)
    assert location is not None and location.this.this == "s3://bucket/lake/kpis/genre_daily/"
    assert creates["genre_daily"].this.this.db == "analytics"
    template = tbl_properties(creates["batch_quality"])["storage.location.template"]
    assert template == "s3://bucket/lake/kpis/batch_quality/batch_id=${batch_id}/"
    template = tbl_properties(creates["active_listeners"])["storage.location.template"]
    assert template == (
        "s3://bucket/lake/kpis/active_listeners/period=${period}/period_start=${period_start}/"
    )


def test_projection_start_is_configurable() -> None:
    from datetime import date

    ddl = render_ddl("s3://b/l", projection_start=date(2024, 3, 1))
    props = tbl_properties(tables(ddl)["streams"])
    assert props["projection.report_date.range"] == "2024-03-01,NOW"
    props = tbl_properties(tables(ddl)["active_listeners"])
    assert props["projection.period_start.range"] == "2024-03-01,NOW"


@pytest.mark.parametrize("database", ["Bad-Name", "x;drop", ""])
def test_bad_database_name_is_refused(database: str) -> None:
    with pytest.raises(ReportError, match="database"):
        render_ddl("s3://b/l", database=database)
