"""The rendered template: valid CloudFormation, what `deploy print` prints, SPEC §5 tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from musicstream.deploy.commands import register
from musicstream.deploy.template import build_template, render

pytestmark = pytest.mark.infra


def test_the_template_passes_cfn_lint_including_informational_rules() -> None:
    """Schema, intrinsic functions, IAM policy syntax and action names (E3510/E3512/E3530,
    W3037), retention of stateful resources (I3011), ARN partitions (I3042), …"""
    cfnlint = pytest.importorskip("cfnlint.api")
    from cfnlint.config import ManualArgs

    config = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"])
    matches = cfnlint.lint(render(), config=config)
    assert [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in matches] == []


def test_the_template_fits_a_direct_upload() -> None:
    """`aws cloudformation deploy --template-file` sends at most 51,200 bytes inline."""
    assert len(render().encode()) < 51_200


def test_musicstream_deploy_print_renders_the_template() -> None:
    """Through the installed entry point, so the command's registration is covered too."""
    printed = subprocess.run(
        [sys.executable, "-m", "musicstream", "deploy", "print"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(printed.stdout) == build_template()
    assert printed.stdout == render()  # stable: the same text every time


def test_deploy_print_out_writes_the_file(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    out = tmp_path / "build" / "stack.json"
    written = CliRunner().invoke(app, ["deploy", "print", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text() == render()


SPEC_TABLES: dict[str, tuple[list[tuple[str, str, str]], list[tuple[str, str, str]] | None]] = {
    # table: ([(attribute, key type, attribute type)], GSI keys or None) — SPEC §5
    "genre_daily": ([("report_date", "HASH", "S"), ("genre", "RANGE", "S")],
                    [("genre", "HASH", "S"), ("report_date", "RANGE", "S")]),
    "top_songs_daily": ([("report_date", "HASH", "S"), ("genre_rank", "RANGE", "S")], None),
    "top_genres_daily": ([("report_date", "HASH", "S"), ("rank", "RANGE", "N")], None),
    "track_daily": ([("track_id", "HASH", "S"), ("report_date", "RANGE", "S")],
                    [("report_date", "HASH", "S"), ("track_id", "RANGE", "S")]),
    "country_daily": ([("report_date", "HASH", "S"), ("country", "RANGE", "S")], None),
    "top_artists_daily": ([("report_date", "HASH", "S"), ("rank", "RANGE", "N")], None),
    "user_daily": ([("user_id", "HASH", "S"), ("report_date", "RANGE", "S")],
                   [("report_date", "HASH", "S"), ("user_id", "RANGE", "S")]),
    "hourly_activity": ([("report_date", "HASH", "S"), ("hour", "RANGE", "N")], None),
    "active_listeners": ([("period", "HASH", "S"), ("period_start", "RANGE", "S")], None),
    "songs": ([("track_id", "HASH", "S")], None),
    "users": ([("user_id", "HASH", "S")], None),
    # not a §5 table: the store's record of finished loads (/health), newest last
    "loads": ([("kind", "HASH", "S"), ("finished_at", "RANGE", "S")], None),
}  # fmt: skip


def _keys(schema: list[dict[str, str]], types: dict[str, str]) -> list[tuple[str, str, str]]:
    return [(k["AttributeName"], k["KeyType"], types[k["AttributeName"]]) for k in schema]


def test_the_kpi_tables_are_those_of_spec_section_5() -> None:
    tables = {
        r["Properties"]["TableName"]["Fn::Sub"].removeprefix("${StorePrefix}"): r["Properties"]
        for r in build_template()["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    assert set(tables) == set(SPEC_TABLES)
    for name, (keys, index) in SPEC_TABLES.items():
        props: dict[str, Any] = tables[name]
        types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
        assert _keys(props["KeySchema"], types) == keys, name
        indexes = props.get("GlobalSecondaryIndexes", [])
        assert [_keys(i["KeySchema"], types) for i in indexes] == ([index] if index else []), name
