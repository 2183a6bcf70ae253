"""The DynamoDB store's tables as SPEC §5 lays them out: each table's key, sort key and GSI,
and the CreateTable arguments both ``musicstream store init`` and the CloudFormation stack
(``deploy/storage.py``) are made from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from musicstream.errors import UserError


@dataclass(frozen=True)
class TableSpec:
    """Partition key, sort key (none for songs, users), and the optional GSI (partition,
    sort) with its projection."""

    pk: str
    sk: str | None
    index: tuple[str, str] | None = None
    index_projection: str = "ALL"

    @property
    def index_name(self) -> str | None:
        return f"{self.index[0]}-{self.index[1]}" if self.index else None

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.pk, self.sk) if self.sk else (self.pk,)


SPECS: dict[str, TableSpec] = {
    "genre_daily": TableSpec("report_date", "genre", index=("genre", "report_date")),
    "top_songs_daily": TableSpec("report_date", "genre_rank"),
    "top_genres_daily": TableSpec("report_date", "rank"),
    # the report_date index only finds a date's keys (per-date replace): keys are enough
    "track_daily": TableSpec("track_id", "report_date", ("report_date", "track_id"), "KEYS_ONLY"),
    "country_daily": TableSpec("report_date", "country"),
    "top_artists_daily": TableSpec("report_date", "rank"),
    # as track_daily: per user, the report_date index finds a date's keys
    "user_daily": TableSpec("user_id", "report_date", ("report_date", "user_id"), "KEYS_ONLY"),
    "hourly_activity": TableSpec("report_date", "hour"),
    "active_listeners": TableSpec("period", "period_start"),
    "songs": TableSpec("track_id", None),
    "users": TableSpec("user_id", None),
    # the store's own record of finished loads (``/health``): one partition, newest last
    "loads": TableSpec("kind", "finished_at"),
}
_ATTR_TYPES = {"rank": "N", "hour": "N"}  # every other key attribute is a string


def table_definition(name: str, spec: TableSpec) -> dict[str, Any]:
    """CreateTable arguments: on-demand billing, the key schema and GSI of SPEC §5."""
    attrs = {*spec.keys, *(spec.index or ())}
    definition: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": _ATTR_TYPES.get(a, "S")} for a in sorted(attrs)
        ],
        "KeySchema": key_schema(*spec.keys),
    }
    if spec.index:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": spec.index_name,
                "KeySchema": key_schema(*spec.index),
                "Projection": {"ProjectionType": spec.index_projection},
            }
        ]
    return definition


def key_schema(pk: str, sk: str | None = None) -> list[dict[str, str]]:
    ranged = [{"AttributeName": sk, "KeyType": "RANGE"}] if sk else []
    return [{"AttributeName": pk, "KeyType": "HASH"}, *ranged]


def check_schema(name: str, spec: TableSpec, found: Mapping[str, Any]) -> None:
    """An existing table must have our keys and index, or loads would fail obscurely."""
    indexes = {i["IndexName"] for i in found.get("GlobalSecondaryIndexes", [])}
    if found["KeySchema"] != key_schema(*spec.keys) or (
        spec.index_name and spec.index_name not in indexes
    ):
        raise UserError(
            f"DynamoDB table {name} exists with another key schema or without index "
            f"{spec.index_name}; drop it or choose another store_prefix"
        )
