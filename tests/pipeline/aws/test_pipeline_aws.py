"""Whole runs with the lake on S3 and the KPIs in DynamoDB, against the local reference run."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from typer.testing import CliRunner

from aws_helpers import dump_store, recording
from aws_landing import BATCHES, TRACKS, USERS
from aws_local import land
from musicstream import pipeline
from musicstream.cli import app
from musicstream.errors import QualityGateFailed
from musicstream.lake import open_lake
from musicstream.settings import Settings, load_settings
from musicstream.stores import KpiQuery, create_store

pytestmark = pytest.mark.aws

Make = Callable[..., Settings]


def genres_of(settings: Settings, day: str) -> list[str]:
    store = create_store(settings)
    try:
        rows = store.query(KpiQuery("genre_daily", date=date.fromisoformat(day)))
    finally:
        store.close()
    return [r["genre"] for r in rows]


def test_two_batches_on_s3_and_dynamodb_equal_the_local_run(
    aws_settings: Make, local_settings: Make
) -> None:
    aws, local = aws_settings(), local_settings()
    for batch in range(2):
        land(aws, batch)
        land(local, batch)
        got, want = pipeline.run(aws), pipeline.run(local)
        assert got["status"] == "ok"
        assert got["datasets"] == want["datasets"]
        assert got["dates"] == want["dates"]
        assert dump_store(aws) == dump_store(local)
        if batch == 0:
            assert "pop" in genres_of(aws, "2026-01-03")
    assert "pop" not in genres_of(aws, "2026-01-03")  # restated: the stale item is gone
    assert "indie" in genres_of(aws, "2026-01-03")

    lake = open_lake(aws.lake, aws.aws_endpoint_url)
    assert lake.files("landing") == []
    assert len(lake.files("archive")) == 6
    assert lake.files("quarantine/streams")[0].endswith("quarantine.parquet")
    assert not lake.exists("_state/lock.json")


def test_rerun_and_relanded_files_change_nothing(aws_settings: Make) -> None:
    aws = aws_settings()
    land(aws, 0)
    pipeline.run(aws)
    before = dump_store(aws)
    env = {  # the CLI, configured through the environment as a deployment would be
        "MUSICSTREAM_LAKE": aws.lake,
        "MUSICSTREAM_STORE": "dynamodb",
        "MUSICSTREAM_STORE_PREFIX": aws.store_prefix,
        "MUSICSTREAM_AWS_ENDPOINT_URL": aws.aws_endpoint_url or "",
        "MUSICSTREAM_AWS_REGION": aws.aws_region or "",
    }
    result = CliRunner().invoke(app, ["run", "--log-format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["status"] == "nothing_new"
    land(aws, 0)  # the same files again: recognised by content hash, only archived
    again = pipeline.run(aws)
    assert again["status"] == "ok"
    assert again["dates"] == []
    assert dump_store(aws) == before


def test_a_rejected_batch_is_rolled_back_on_s3(aws_settings: Make) -> None:
    """The quality gate on S3: a rejected batch's song upsert is restored from its
    before-image, its curated streams are removed, the store is untouched, and nothing of
    it stays in landing or under _state/rollback."""
    aws = aws_settings(max_bad_ratio=0.5)
    land(aws, 0)
    pipeline.run(aws)
    lake = open_lake(aws.lake, aws.aws_endpoint_url, aws.aws_region)
    curated = {rel: lake.read_bytes(rel) for rel in lake.files("curated")}
    store = dump_store(aws)
    land(aws, 1)  # t01 moves to indie, new streams on two dates …
    unknown = "\n".join(f"u9{i},t01,2026-01-04 0{i}:00:00,100" for i in range(9))
    lake.write_bytes(  # … and 9 unknown listeners: 10 of 14 streams bad (with a duplicate)
        "landing/streams/unknown.csv",
        f"user_id,track_id,listen_time,ms_played\n{unknown}\n".encode(),
    )
    with pytest.raises(QualityGateFailed, match=r"streams quarantined 71\.4%"):
        pipeline.run(aws)
    assert {rel: lake.read_bytes(rel) for rel in lake.files("curated")} == curated
    assert dump_store(aws) == store
    assert lake.files("landing") == [] and lake.files("_state/rollback") == []
    statuses = [lake.read_json(rel)["status"] for rel in lake.files("_state/batches")]
    assert sorted(statuses) == ["archived", "rejected"]
    # the rejected batch's files are archived as well: the next run is not wedged
    assert len(lake.files("archive")) == len(BATCHES[0]) + len(BATCHES[1]) + 1


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The store after an uninterrupted local run of batch 1."""
    lake = tmp_path_factory.mktemp("reference") / "lake"
    lake.mkdir()
    local = load_settings(lake=str(lake), progress=False)
    land(local, 0)
    pipeline.run(local)
    return dump_store(local)


@pytest.mark.parametrize("step", ["kpis", "load:2026-01-02", "commit"])
def test_killed_run_resumes_to_the_uninterrupted_state(
    aws_settings: Make, reference: dict[str, Any], step: str
) -> None:
    aws = aws_settings()
    land(aws, 0)

    def crash(name: str) -> None:
        if name == step:
            raise KeyboardInterrupt(f"killed at {name}")

    with pytest.raises(KeyboardInterrupt):
        pipeline.run(aws, on_step=crash)
    resumed = pipeline.run(aws)
    assert resumed["batch_ids"], "the interrupted batch is finished by the next run"
    assert dump_store(aws) == reference
    assert open_lake(aws.lake, aws.aws_endpoint_url).files("landing") == []


def test_an_object_replaced_after_planning_loses_no_row_on_s3(aws_settings: Make) -> None:
    """S3 has no staged copy: the replaced object is left in landing and taken next."""
    from musicstream.pipeline import tasks

    aws = aws_settings()
    land(aws, 0)
    planned = tasks.plan_batch(aws)
    assert planned is not None
    lake = open_lake(aws.lake, aws.aws_endpoint_url)
    rel = "landing/streams/day12/a.csv"
    extra = "u01,t02,2026-01-02 23:59:00,1000\n"
    lake.write_bytes(rel, lake.read_bytes(rel) + extra.encode())  # the exporter rewrote it
    summary = pipeline.run(aws)  # the planned batch, then the changed file as a new one
    assert len(summary["batch_ids"]) == 2
    assert summary["files_left_in_landing"] == [rel]
    first, second = summary["batches"]
    (skipped,) = [f for f in first["files"] if f["path"] == rel]
    assert skipped["skipped"] and skipped["rows_read"] == 0
    (taken,) = [f for f in second["files"] if f["path"] == rel]
    assert (
        taken["rows_kept"] > 0
        and taken["rows_read"] == taken["rows_kept"] + taken["rows_quarantined"]
    )
    assert lake.files("landing") == []
    assert len([p for p in lake.files("archive") if p.endswith("day12/a.csv")]) == 1


def _written_keys(calls: Any, table: str, key: str) -> list[str]:
    """The keys of the items BatchWriteItem put into ``table``, in the order sent."""
    return [
        request["PutRequest"]["Item"][key]["S"]
        for name, params in calls.ops
        if name == "BatchWriteItem"
        for request in params["RequestItems"].get(table, [])
        if "PutRequest" in request
    ]


def test_the_store_gets_only_the_dimension_rows_a_batch_changed(
    aws_settings: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = aws_settings()
    songs, users = f"{aws.store_prefix}songs", f"{aws.store_prefix}users"
    with recording(monkeypatch) as calls:
        land(aws, 0)
        pipeline.run(aws)
    assert sorted(_written_keys(calls, songs, "track_id")) == TRACKS
    assert sorted(_written_keys(calls, users, "user_id")) == USERS  # u07 was quarantined

    lake = open_lake(aws.lake, aws.aws_endpoint_url)
    # the same songs again with one changed (columns in another order: another file), and
    # no users: only that song is written, and no user
    lake.write_bytes(
        "landing/songs/again.csv",
        b"track_genre,track_id,track_name,artists,duration_ms,popularity,explicit\n"
        b"rock,t02,Two,Bob,180000,40,False\n"
        b"rock,t03,Three,Cy,210000,31,false\n",
    )
    with recording(monkeypatch) as calls:
        assert pipeline.run(aws)["status"] == "ok"
    assert _written_keys(calls, songs, "track_id") == ["t03"]
    assert _written_keys(calls, users, "user_id") == []

    # a file that changes nothing writes nothing
    lake.write_bytes("landing/users/same.csv", USERS_SAME.encode())
    with recording(monkeypatch) as calls:
        assert pipeline.run(aws)["status"] == "ok"
    assert _written_keys(calls, songs, "track_id") == []
    assert _written_keys(calls, users, "user_id") == []
    profile = dump_store(aws)["users"]
    assert {u["user_id"]: u["country"] for u in profile}["u03"] is None


USERS_SAME = "user_id,user_country,user_name,user_age,created_at\nu02,FR,B,41,2025-02-01 10:00:00\n"
