"""DynamoDB store only: table design, Number attributes, throttling and unprocessed items,
and Query-only reads. What every store does is in test_contract.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from typer.testing import CliRunner

from aws_helpers import Calls, recording
from aws_local import REGION
from musicstream.cli import app
from musicstream.datasets import KPI_TABLES
from musicstream.errors import UserError
from musicstream.settings import Settings
from musicstream.stores import KpiQuery
from musicstream.stores.dynamodb import DynamoDBStore
from musicstream.stores.dynamodb_batch import Backoff, StoreWriteError
from musicstream.stores.dynamodb_tables import SPECS

from .data import (
    D1,
    D2,
    DIMENSION_PATTERNS,
    PATTERNS,
    SONGS,
    THIRD,
    USERS,
    all_tables,
    arrow,
    dimension,
    kpi_rows,
    load_periods,
    read_date,
)

pytestmark = pytest.mark.aws


@pytest.fixture
def dynamodb_store(dynamodb_settings: Settings) -> Iterator[DynamoDBStore]:
    kv = DynamoDBStore(dynamodb_settings)
    kv.backoff = Backoff(base_s=0.001, cap_s=0.005, attempts=6)
    kv.init()
    yield kv
    kv.close()


def test_init_creates_the_spec_tables_and_is_idempotent(dynamodb_settings: Settings) -> None:
    settings = dynamodb_settings
    runner = CliRunner()
    env = {
        "MUSICSTREAM_STORE": "dynamodb",
        "MUSICSTREAM_STORE_PREFIX": settings.store_prefix,
        "MUSICSTREAM_AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
        "MUSICSTREAM_AWS_REGION": REGION,
    }
    for _ in range(2):
        result = runner.invoke(app, ["store", "init"], env=env)
        assert result.exit_code == 0, result.output
    kv = DynamoDBStore(settings)
    try:
        for table, spec in SPECS.items():
            desc = kv.client.describe_table(TableName=f"{settings.store_prefix}{table}")["Table"]
            assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            keys = [(k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"]]
            assert keys == [(spec.pk, "HASH"), *([(spec.sk, "RANGE")] if spec.sk else [])]
            indexes = desc.get("GlobalSecondaryIndexes", [])
            assert [i["IndexName"] for i in indexes] == ([spec.index_name] if spec.index else [])
    finally:
        kv.close()


def test_numbers_are_stored_as_number_attributes(dynamodb_store: DynamoDBStore) -> None:
    """Stored as Number, not String (that they read back exactly is in the contract)."""
    big = 2**62 + 1  # beyond a double's 53 bits
    rows = [
        {
            "genre": "pop",
            "listen_count": big,
            "unique_listeners": 3,
            "total_listening_ms": big,
            "avg_listening_ms_per_stream": THIRD,
            "avg_listening_ms_per_user": 0.1 + 0.2,
        }
    ]
    dynamodb_store.replace_date(D1, {"genre_daily": arrow("genre_daily", rows)})
    raw = dynamodb_store.client.get_item(
        TableName=dynamodb_store.name("genre_daily"),
        Key={"report_date": {"S": "2026-01-01"}, "genre": {"S": "pop"}},
    )["Item"]
    assert raw["listen_count"] == {"N": str(big)}
    assert set(raw["avg_listening_ms_per_stream"]) == {"N"}


def test_key_design_of_the_new_tables(dynamodb_store: DynamoDBStore) -> None:
    """SPEC §5's table: written out, so a change to SPECS cannot pass unnoticed."""
    design = {t: (s.pk, s.sk, s.index) for t, s in SPECS.items()}
    assert {t: design[t] for t in ("user_daily", "hourly_activity", "active_listeners")} == {
        "user_daily": ("user_id", "report_date", ("report_date", "user_id")),
        "hourly_activity": ("report_date", "hour", None),
        "active_listeners": ("period", "period_start", None),
    }
    assert design["songs"] == ("track_id", None, None)
    assert design["users"] == ("user_id", None, None)


def test_hours_and_dimension_numbers_are_numbers_and_explicit_a_bool(
    dynamodb_store: DynamoDBStore,
) -> None:
    store = dynamodb_store
    hours = arrow("hourly_activity", kpi_rows("hourly_activity", 3))
    store.replace_date(D1, {"hourly_activity": hours})
    store.upsert_dimension("songs", dimension("songs", SONGS))
    store.upsert_dimension("users", dimension("users", USERS))
    hour = store.client.get_item(
        TableName=store.name("hourly_activity"),
        Key={"report_date": {"S": "2026-01-01"}, "hour": {"N": "2"}},
    )["Item"]
    assert hour["listen_count"] == {"N": "3"}
    song = store.client.get_item(TableName=store.name("songs"), Key={"track_id": {"S": "t1"}})
    assert song["Item"]["explicit"] == {"BOOL": True}
    assert song["Item"]["duration_ms"] == {"N": str(2**33 + 1)}
    user = store.client.get_item(TableName=store.name("users"), Key={"user_id": {"S": "u1"}})
    assert user["Item"]["user_age"] == {"N": "21"}
    assert user["Item"]["created_at"] == {"S": "2025-12-01T08:30:00"}


def test_a_null_column_is_no_attribute(dynamodb_store: DynamoDBStore) -> None:
    store = dynamodb_store
    store.upsert_dimension("songs", dimension("songs", [{**SONGS[0], "album_name": None}]))
    item = store.client.get_item(TableName=store.name("songs"), Key={"track_id": {"S": "t1"}})
    assert "album_name" not in item["Item"] and "track_name" in item["Item"]


def test_user_daily_finds_a_dates_old_keys_through_its_date_index(
    dynamodb_store: DynamoDBStore,
) -> None:
    """Per-date replacement of user_daily: one Query of the report_date GSI, then writes."""
    store = dynamodb_store
    store.replace_date(D1, {"user_daily": arrow("user_daily", kpi_rows("user_daily", 5))})
    calls = Calls()
    calls.record(store)
    store.replace_date(D1, {"user_daily": arrow("user_daily", kpi_rows("user_daily", 2))})
    assert calls.names() == ["Query", "BatchWriteItem"]
    assert calls.ops[0][1]["IndexName"] == "report_date-user_id"
    [requests] = calls.ops[1][1]["RequestItems"].values()
    assert sum("DeleteRequest" in r for r in requests) == 3


def test_reading_a_table_not_made_yet_says_so(dynamodb_settings: Settings) -> None:
    kv = DynamoDBStore(dynamodb_settings)  # no init: the prefix has no tables
    try:
        for q in (PATTERNS["9 hourly_activity of a date"], DIMENSION_PATTERNS["11 one song"]):
            with pytest.raises(UserError, match=r"no DynamoDB table .*: run `musicstream run`"):
                kv.query(q)
    finally:
        kv.close()


def _throttled() -> tuple[AWSResponse, dict[str, Any]]:
    error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
    parsed = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return AWSResponse("http://local", 400, {}, None), parsed


def test_unprocessed_items_and_throttling_lose_nothing(dynamodb_store: DynamoDBStore) -> None:
    """The first 30 calls: every third is throttled, the others process half their items."""
    store = dynamodb_store
    seen = {"calls": 0, "throttled": 0, "held": 0}
    lock = threading.Lock()
    store.backoff = Backoff(base_s=0.001, cap_s=0.005, attempts=40)  # > the 30 bad calls

    def count(context: dict[str, Any], **_: Any) -> None:
        with lock:
            seen["calls"] += 1
            context["call"] = seen["calls"]

    def hold_back(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if context["call"] > 30 or context["call"] % 3 == 0:
            return
        [(table, requests)] = params["RequestItems"].items()
        keep = len(requests) // 2 or 1
        params["RequestItems"][table], context["held"] = requests[:keep], {table: requests[keep:]}
        with lock:
            seen["held"] += len(requests) - keep

    def throttle(context: dict[str, Any], **_: Any) -> Any:
        if context["call"] > 30 or context["call"] % 3:
            return None
        with lock:
            seen["throttled"] += 1
        return _throttled()

    def report(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        held = {t: r for t, r in context.get("held", {}).items() if r}
        if held and "Error" not in parsed:
            parsed["UnprocessedItems"] = held

    events = store.client.meta.events
    events.register("provide-client-params.dynamodb.BatchWriteItem", count)
    events.register("before-parameter-build.dynamodb.BatchWriteItem", hold_back)
    events.register("before-call.dynamodb.BatchWriteItem", throttle)
    events.register("after-call.dynamodb.BatchWriteItem", report)
    store.replace_date(D1, all_tables(60))
    assert seen["throttled"] == 10 and seen["held"] >= 50
    for table in KPI_TABLES:
        assert len(read_date(store, table, D1, 60)) == 60, table


def test_a_write_that_keeps_failing_raises_with_every_unsent_key(
    dynamodb_store: DynamoDBStore,
) -> None:
    store = dynamodb_store
    store.writers = 3
    store.client.meta.events.register(
        "before-call.dynamodb.BatchWriteItem", lambda **_: _throttled()
    )
    with pytest.raises(StoreWriteError) as caught:
        store.replace_date(D1, {"genre_daily": arrow("genre_daily", kpi_rows("genre_daily", 60))})
    unsent = caught.value.unsent
    assert len(unsent) == 60
    assert {table for table, _ in unsent} == {store.name("genre_daily")}
    assert sorted(key["genre"] for _, key in unsent) == sorted(f"g{i}" for i in range(60))
    assert {key["report_date"] for _, key in unsent} == {"2026-01-01"}
    assert "60 DynamoDB write(s) not applied" in str(caught.value)
    assert "ProvisionedThroughputExceededException after 6 attempts" in str(caught.value)
    assert "… and 40 more" in str(caught.value)


@pytest.mark.parametrize("q", PATTERNS.values(), ids=PATTERNS)
def test_access_patterns_are_a_query_never_a_scan(
    dynamodb_store: DynamoDBStore, q: KpiQuery
) -> None:
    calls = Calls()
    calls.record(dynamodb_store)
    dynamodb_store.query(q)
    assert calls.names() == ["Query"]
    [(_, params)] = calls.ops
    uses_index = q.table == "genre_daily" and q.date is None
    assert params.get("IndexName") == ("genre-report_date" if uses_index else None)


@pytest.mark.parametrize("q", DIMENSION_PATTERNS.values(), ids=DIMENSION_PATTERNS)
def test_a_song_or_user_is_one_get_item(dynamodb_store: DynamoDBStore, q: KpiQuery) -> None:
    calls = Calls()
    calls.record(dynamodb_store)
    dynamodb_store.query(q)
    assert calls.names() == ["GetItem"]


CLI_PATTERNS: list[list[str]] = [  # SPEC §5, in order (3 twice: all genres, one genre)
    ["genre_daily", "--date", "2026-01-01"],
    ["genre_daily", "--genre", "g1", "--from", "2026-01-01", "--to", "2026-01-02"],
    ["top_songs_daily", "--date", "2026-01-01"],
    ["top_songs_daily", "--date", "2026-01-01", "--genre", "g2"],
    ["top_genres_daily", "--date", "2026-01-02"],
    ["track_daily", "--track", "t001", "--from", "2026-01-01", "--to", "2026-01-31"],
    ["country_daily", "--date", "2026-01-01"],
    ["top_artists_daily", "--date", "2026-01-02"],
    ["user_daily", "--user", "u001", "--from", "2026-01-01", "--to", "2026-01-31"],
    ["hourly_activity", "--date", "2026-01-02"],
    ["active_listeners", "--period", "week", "--from", "2025-12-22", "--to", "2026-01-12"],
    ["songs", "--track", "t2"],
    ["users", "--user", "u3"],
]


@pytest.mark.parametrize("args", CLI_PATTERNS, ids=[" ".join(a[:3:2]) for a in CLI_PATTERNS])
def test_kpis_command_reads_each_access_pattern_with_query_only(
    dynamodb_store: DynamoDBStore,
    dynamodb_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
) -> None:
    settings = dynamodb_settings
    dynamodb_store.replace_date(D1, all_tables(6))
    dynamodb_store.replace_date(D2, all_tables(6, salt=1))
    load_periods(dynamodb_store)
    dynamodb_store.upsert_dimension("songs", dimension("songs", SONGS))
    dynamodb_store.upsert_dimension("users", dimension("users", USERS))
    env = {
        "MUSICSTREAM_STORE_PREFIX": settings.store_prefix,
        "MUSICSTREAM_AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
        "MUSICSTREAM_AWS_REGION": REGION,
    }
    with recording(monkeypatch) as calls:
        result = CliRunner().invoke(
            app, ["kpis", *args, "--store", "dynamodb", "--format", "json"], env=env
        )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows, "the pattern found rows"
    table = args[0]
    assert calls.names() == (["GetItem"] if table in ("songs", "users") else ["Query"])
    [(_, params)] = calls.ops
    assert params["TableName"] == f"{settings.store_prefix}{table}"
    uses_index = "--genre" in args and "--from" in args
    assert params.get("IndexName") == ("genre-report_date" if uses_index else None)
    if "--date" in args:
        assert {r["report_date"] for r in rows} == {args[args.index("--date") + 1]}
    if "--genre" in args:
        assert {r["genre"] for r in rows} == {args[args.index("--genre") + 1]}
    if "--track" in args:
        track = args[args.index("--track") + 1]
        assert {r["track_id"] for r in rows} == {track}
        assert len(rows) == (1 if table == "songs" else 2)
    if "--user" in args:
        user = args[args.index("--user") + 1]
        assert {r["user_id"] for r in rows} == {user}
        assert len(rows) == (1 if table == "users" else 2)
    if "--period" in args:
        starts = ["2025-12-22", "2025-12-29", "2026-01-05", "2026-01-12"]
        assert [r["period_start"] for r in rows] == starts
    if "--from" in args and table == "genre_daily":
        assert [r["report_date"] for r in rows] == ["2026-01-01", "2026-01-02"]
