"""DynamoDB serving store: one table per KPI table, keyed and indexed as SPEC §5 lays out.

Writes go through :mod:`musicstream.stores.dynamodb_batch` (BatchWriteItem, 25 items,
backoff with jitter, unsent keys reported); reads are Query on a key or an index, never Scan.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from musicstream.datasets import KPI_COLUMNS, KPI_KEYS
from musicstream.errors import UserError
from musicstream.stores import KpiQuery, Row
from musicstream.stores.dynamodb_batch import Backoff, BatchWriter, WriteRequest

if TYPE_CHECKING:
    import pyarrow as pa

    from musicstream.settings import Settings

RANK_WIDTH = 4  # top_songs_daily sort key `genre#0001`: zero-padded so ranks sort as text
WRITERS = 8  # parallel BatchWriteItem senders: against moto 1 → 8 took ~670 → ~2100 items/s


@dataclass(frozen=True)
class TableSpec:
    """Partition key, sort key, and the optional GSI (partition, sort) with its projection."""

    pk: str
    sk: str
    index: tuple[str, str] | None = None
    index_projection: str = "ALL"

    @property
    def index_name(self) -> str | None:
        return f"{self.index[0]}-{self.index[1]}" if self.index else None


SPECS: dict[str, TableSpec] = {
    "genre_daily": TableSpec("report_date", "genre", index=("genre", "report_date")),
    "top_songs_daily": TableSpec("report_date", "genre_rank"),
    "top_genres_daily": TableSpec("report_date", "rank"),
    # the report_date index only finds a date's keys (per-date replace): keys are enough
    "track_daily": TableSpec("track_id", "report_date", ("report_date", "track_id"), "KEYS_ONLY"),
    "country_daily": TableSpec("report_date", "country"),
    "top_artists_daily": TableSpec("report_date", "rank"),
}
_ATTR_TYPES = {"genre_rank": "S", "rank": "N"}  # every other key attribute is a string
_FILTERS = {"genre": "genre", "track": "track_id"}  # KpiQuery field -> column

_ser, _de = TypeSerializer(), TypeDeserializer()


@functools.cache
def _session() -> boto3.session.Session:
    """One session per process: it caches the service models a new client would reload."""
    return boto3.session.Session()


def to_number(value: int | float) -> int | Decimal:
    """A KPI number as DynamoDB takes it; a float's shortest repr round-trips its 64 bits."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"DynamoDB cannot store the number {value!r}")
        return Decimal(repr(value))
    return value


def to_item(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A KPI row as a DynamoDB item (low-level format); null columns are left out."""
    item = {k: to_number(v) if isinstance(v, int | float) else v for k, v in row.items()}
    if table == "top_songs_daily":
        item["genre_rank"] = f"{row['genre']}#{row['rank']:0{RANK_WIDTH}d}"
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def to_row(table: str, item: Mapping[str, Any]) -> Row:
    """A DynamoDB item back as a KPI row: every column, typed as in KPI_COLUMNS."""
    plain = {k: _de.deserialize(v) for k, v in item.items()}
    casts = {"int": int, "float": float, "str": str}
    return {
        c: None if plain.get(c) is None else casts[t](plain[c])
        for c, t in KPI_COLUMNS[table].items()
    }


class DynamoDBStore:
    """KPIs in DynamoDB tables named ``<store_prefix><table>``, on-demand billing."""

    def __init__(self, settings: Settings) -> None:
        self.prefix = settings.store_prefix
        self.writers = WRITERS
        self.client = _session().client(
            "dynamodb",
            endpoint_url=settings.aws_endpoint_url,
            region_name=settings.aws_region,
            config=Config(retries={"mode": "standard"}, max_pool_connections=2 * WRITERS),
        )
        self.backoff = Backoff()
        self._ready = False

    def close(self) -> None:
        self.client.close()

    def name(self, table: str) -> str:
        return f"{self.prefix}{table}"

    # -- init ----------------------------------------------------------------------------

    def init(self) -> None:
        """Create missing tables (and their GSI), wait until active; safe to repeat."""
        if self._ready:
            return
        created = [t for t, spec in SPECS.items() if self._ensure(t, spec)]
        waiter = self.client.get_waiter("table_exists")
        for table in created:
            waiter.wait(TableName=self.name(table), WaiterConfig={"Delay": 1, "MaxAttempts": 300})
        self._ready = True

    def _ensure(self, table: str, spec: TableSpec) -> bool:
        """True when the table is not ready yet: just created here, or by someone else."""
        try:
            found = self.client.describe_table(TableName=self.name(table))["Table"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        else:
            _check_schema(self.name(table), spec, found)
            return bool(found.get("TableStatus") != "ACTIVE")
        try:
            self.client.create_table(**_table_definition(self.name(table), spec))
        except ClientError as exc:  # another process created it a moment ago
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        return True

    # -- load ----------------------------------------------------------------------------

    def replace_date(self, report_date: date, tables: Mapping[str, pa.Table]) -> None:
        """Put the date's rows and delete the date's items whose keys are not among them.

        Not atomic (DynamoDB transactions stop at 100 items): a reader may briefly see a
        mix of old and new rows; a failed load raises, and the retried load redoes the date.
        """
        day = report_date.isoformat()
        requests: list[WriteRequest] = []
        for table, data in tables.items():
            items = [to_item(table, {"report_date": day, **r}) for r in data.to_pylist()]
            new_keys = {self._key_tuple(table, i) for i in items}
            requests += [(self.name(table), {"PutRequest": {"Item": i}}) for i in items]
            requests += [
                (self.name(table), {"DeleteRequest": {"Key": key}})
                for key in self._date_keys(table, day)
                if self._key_tuple(table, key) not in new_keys
            ]
        BatchWriter(self.client, self.writers, self.backoff, self._key_of).write(requests)

    def _date_keys(self, table: str, day: str) -> list[dict[str, Any]]:
        """Primary keys of the table's items of ``day``, by the table key or (track_daily) the
        report_date GSI. A GSI is eventually consistent: an item written a moment ago may be
        missing, which only matters if a date is reloaded within about a second.
        """
        spec = SPECS[table]
        args: dict[str, Any] = {"ConsistentRead": True}
        if spec.pk != "report_date":  # track_daily: the report_date index
            args = {"IndexName": spec.index_name}
        items = self._query(
            TableName=self.name(table),
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "report_date", "#p": spec.pk, "#s": spec.sk},
            ExpressionAttributeValues={":d": {"S": day}},
            ProjectionExpression="#p, #s",
            **args,
        )
        return [{spec.pk: i[spec.pk], spec.sk: i[spec.sk]} for i in items]

    def _key_tuple(self, table: str, item: Mapping[str, Any]) -> tuple[Any, Any]:
        spec = SPECS[table]
        return (_de.deserialize(item[spec.pk]), _de.deserialize(item[spec.sk]))

    def _key_of(self, table_name: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """The plain primary key of a write request, for error messages."""
        spec = SPECS[table_name.removeprefix(self.prefix)]
        found = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
        return {k: _de.deserialize(found[k]) for k in (spec.pk, spec.sk)}

    # -- read ----------------------------------------------------------------------------

    def query(self, q: KpiQuery) -> list[Row]:
        """One SPEC §5 access pattern as a single (paginated) Query."""
        q.check()
        args = _query_args(q)
        items = self._query(TableName=self.name(q.table), **args)
        rows = [to_row(q.table, i) for i in items]
        keys = KPI_KEYS[q.table]
        return sorted(rows, key=lambda r: tuple((r[k] is None, r[k]) for k in keys))

    def _query(self, **args: Any) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("query").paginate(**args)
        return [item for page in pages for item in page["Items"]]


def _query_args(q: KpiQuery) -> dict[str, Any]:
    """Key condition (and a filter for a non-key column) of one KpiQuery."""
    spec, filters = SPECS[q.table], {_FILTERS[f]: v for f in _FILTERS if (v := getattr(q, f))}
    if q.date is None:  # a range: one genre (its GSI) or one track (the table key)
        via_index = spec.pk == "report_date" and spec.index is not None
        pk, sk = spec.index if via_index and spec.index else (spec.pk, spec.sk)
        low, high = (q.date_from or date.min).isoformat(), (q.date_to or date.max).isoformat()
        cond = {pk: ("=", filters.pop(pk)), sk: ("between", (low, high))}
        args: dict[str, Any] = {"IndexName": spec.index_name} if via_index else {}
    else:
        pk_value = filters.pop(spec.pk) if spec.pk != "report_date" else q.date.isoformat()
        cond, args = {spec.pk: ("=", pk_value)}, {}
        if spec.sk == "report_date":
            cond[spec.sk] = ("=", q.date.isoformat())
        elif spec.sk in filters:
            cond[spec.sk] = ("=", filters.pop(spec.sk))
        elif spec.sk == "genre_rank" and "genre" in filters:
            g = filters.pop("genre")
            cond[spec.sk] = ("between", (f"{g}#{'0' * RANK_WIDTH}", f"{g}#{'9' * RANK_WIDTH}"))
    return {**args, **_expressions(q.table, cond, filters)}


def _expressions(
    table: str, cond: dict[str, tuple[str, Any]], filters: dict[str, str]
) -> dict[str, Any]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def term(col: str, op: str, value: Any) -> str:
        n = len(names)
        names[f"#a{n}"] = col
        if op == "between":
            values[f":v{n}a"], values[f":v{n}b"] = (_ser.serialize(v) for v in value)
            return f"#a{n} BETWEEN :v{n}a AND :v{n}b"
        values[f":v{n}"] = _ser.serialize(value)
        return f"#a{n} = :v{n}"

    for col in filters:
        if col not in KPI_COLUMNS[table]:
            raise UserError(f"{table} has no {col} column to filter on")
    out: dict[str, Any] = {
        "KeyConditionExpression": " AND ".join(term(c, *cv) for c, cv in cond.items())
    }
    if filters:
        out["FilterExpression"] = " AND ".join(term(c, "=", v) for c, v in filters.items())
    return {**out, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _table_definition(name: str, spec: TableSpec) -> dict[str, Any]:
    """CreateTable arguments: on-demand billing, the key schema and GSI of SPEC §5."""
    attrs = {spec.pk, spec.sk, *(spec.index or ())}
    definition: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": _ATTR_TYPES.get(a, "S")} for a in sorted(attrs)
        ],
        "KeySchema": _key_schema(spec.pk, spec.sk),
    }
    if spec.index:
        definition["GlobalSecondaryIndexes"] = [
            {
                "IndexName": spec.index_name,
                "KeySchema": _key_schema(*spec.index),
                "Projection": {"ProjectionType": spec.index_projection},
            }
        ]
    return definition


def _key_schema(pk: str, sk: str) -> list[dict[str, str]]:
    return [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}]


def _check_schema(name: str, spec: TableSpec, found: Mapping[str, Any]) -> None:
    """An existing table must have our keys and index, or loads would fail obscurely."""
    indexes = {i["IndexName"] for i in found.get("GlobalSecondaryIndexes", [])}
    if found["KeySchema"] != _key_schema(spec.pk, spec.sk) or (
        spec.index_name and spec.index_name not in indexes
    ):
        raise UserError(
            f"DynamoDB table {name} exists with another key schema or without index "
            f"{spec.index_name}; drop it or choose another store_prefix"
        )
