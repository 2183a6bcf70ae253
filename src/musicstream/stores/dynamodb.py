"""DynamoDB serving store: one table per KPI table and per served dimension (songs, users),
keyed and indexed as SPEC §5 lays out.

Writes go through :mod:`musicstream.stores.dynamodb_batch` (BatchWriteItem, 25 items,
backoff with jitter, unsent keys reported); reads are Query on a key or an index, or GetItem
of one song or user, never Scan.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from musicstream.datasets import DIMENSION_COLUMNS, KPI_COLUMNS, PERIOD_TABLES
from musicstream.errors import StoreNotReady, UserError
from musicstream.stores import STORE_COLUMNS, STORE_KEYS, KpiQuery, Load, Row, rows_of, table_of
from musicstream.stores.dynamodb_batch import Backoff, BatchWriter, WriteRequest
from musicstream.stores.dynamodb_tables import SPECS, TableSpec, check_schema, table_definition

if TYPE_CHECKING:
    import pyarrow as pa

    from musicstream.settings import Settings

RANK_WIDTH = 4  # top_songs_daily sort key `genre#0001`: zero-padded so ranks sort as text
WRITERS = 8  # parallel BatchWriteItem senders: against moto 1 → 8 took ~670 → ~2100 items/s


_ser, _de = TypeSerializer(), TypeDeserializer()
_LOAD_KIND = "load"  # the partition key value of every item of the loads table
_GET_BATCH = 100  # the BatchGetItem limit


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
    """A row as a DynamoDB item (low-level format; a bool as BOOL); null columns are left
    out, so a put replaces the whole item and a null clears the attribute."""
    item = {
        k: to_number(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in row.items()
    }
    if table == "top_songs_daily":
        item["genre_rank"] = f"{row['genre']}#{row['rank']:0{RANK_WIDTH}d}"
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def to_row(table: str, item: Mapping[str, Any]) -> Row:
    """A DynamoDB item back as a row: every column, typed as in STORE_COLUMNS."""
    plain = {k: _de.deserialize(v) for k, v in item.items()}
    casts = {"int": int, "float": float, "str": str, "bool": bool}
    return {
        c: None if plain.get(c) is None else casts[t](plain[c])
        for c, t in STORE_COLUMNS[table].items()
    }


class DynamoDBStore:
    """KPIs in DynamoDB tables named ``<store_prefix><table>``, on-demand billing."""

    # The report_date index (track_daily, user_daily) is eventually consistent: an item
    # written a moment ago may show there a little later (typically well under a second).
    settle_s = 1.0

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

    @staticmethod
    def describe(settings: Settings) -> str:
        """The store as a person finds it, for messages: the tables' prefix and where."""
        where = " ".join(filter(None, (settings.aws_region, settings.aws_endpoint_url)))
        return f"DynamoDB tables {settings.store_prefix}*" + (f" ({where})" if where else "")

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
            check_schema(self.name(table), spec, found)
            return bool(found.get("TableStatus") != "ACTIVE")
        try:
            self.client.create_table(**table_definition(self.name(table), spec))
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
        part = {"report_date": report_date.isoformat()}
        requests = [r for t, data in tables.items() for r in self._replacement(t, part, data)]
        self._write(requests)

    def replace_period(self, table: str, period: str, start: date, rows: pa.Table) -> None:
        """As :meth:`replace_date`, for one (period, period_start) of a period table."""
        if table not in PERIOD_TABLES:
            raise ValueError(f"{table} is not a period table")
        part = {"period": period, "period_start": start.isoformat()}
        self._write(self._replacement(table, part, rows))

    def upsert_dimension(self, dimension: str, rows: pa.Table) -> None:
        """Put each row whole (a later row of a key wins, as in SQLite's insert or replace)."""
        columns = list(DIMENSION_COLUMNS[dimension])
        items = [to_item(dimension, r) for r in rows_of(rows.select(columns))]
        by_key = {self._key_tuple(dimension, i): i for i in items}  # one request per key
        self._write([(self.name(dimension), {"PutRequest": {"Item": i}}) for i in by_key.values()])

    def _replacement(self, table: str, part: dict[str, str], data: pa.Table) -> list[WriteRequest]:
        """Puts of ``data`` under the partition ``part`` (column → value), and deletes of the
        partition's items whose keys are not among them."""
        items = [to_item(table, {**r, **part}) for r in rows_of(data)]
        new_keys = {self._key_tuple(table, i) for i in items}
        stale = [k for k in self._keys_of(table, part) if self._key_tuple(table, k) not in new_keys]
        return [(self.name(table), {"PutRequest": {"Item": i}}) for i in items] + [
            (self.name(table), {"DeleteRequest": {"Key": k}}) for k in stale
        ]

    def _write(self, requests: list[WriteRequest]) -> None:
        BatchWriter(self.client, self.writers, self.backoff, self._key_of).write(requests)

    def _keys_of(self, table: str, part: dict[str, str]) -> list[dict[str, Any]]:
        """Primary keys of the table's items of one partition, by the table key or (track_daily,
        user_daily) the report_date GSI. A GSI is eventually consistent: an item written a
        moment ago may be missing, which only matters if a date is reloaded within about a
        second.
        """
        spec = SPECS[table]
        args: dict[str, Any] = {"ConsistentRead": True}
        if spec.pk not in part:  # the report_date index
            args = {"IndexName": spec.index_name}
        names = {f"#k{n}": k for n, k in enumerate(spec.keys)}
        items = self._query(
            TableName=self.name(table),
            ProjectionExpression=", ".join(names),
            **args,
            **_expressions(table, {c: ("=", v) for c, v in part.items()}, {}, names),
        )
        return [{k: i[k] for k in spec.keys} for i in items]

    def _key_tuple(self, table: str, item: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(_de.deserialize(item[k]) for k in SPECS[table].keys)

    def _key_of(self, table_name: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """The plain primary key of a write request, for error messages."""
        spec = SPECS[table_name.removeprefix(self.prefix)]
        found = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
        return {k: _de.deserialize(found[k]) for k in spec.keys}

    # -- read ----------------------------------------------------------------------------

    def query(self, q: KpiQuery) -> list[Row]:
        """One SPEC §5 access pattern as a single (paginated) Query, or a GetItem; strongly
        consistent reads except on the genre index (a GSI has none)."""
        q.check()
        try:
            if q.table in DIMENSION_COLUMNS:
                key = {c: _ser.serialize(v) for c, v in q.filters().items()}
                found = self.client.get_item(
                    TableName=self.name(q.table), Key=key, ConsistentRead=True
                ).get("Item")
                return [] if found is None else [to_row(q.table, found)]
            items = self._query(TableName=self.name(q.table), **_query_args(q))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            raise StoreNotReady(
                f"no DynamoDB table {self.name(q.table)}: run `musicstream run`"
            ) from None
        rows = [to_row(q.table, i) for i in items]
        keys = STORE_KEYS[q.table]
        return sorted(rows, key=lambda r: tuple((r[k] is None, r[k]) for k in keys))

    def record_load(self, load: Load) -> None:
        item = {"kind": _LOAD_KIND, **load.row()}
        self._write([(self.name("loads"), {"PutRequest": {"Item": to_item("loads", item)}})])

    def last_load(self) -> Load | None:
        """The newest item of the ``loads`` partition: one Query, newest first, limit 1."""
        try:
            found = self.client.query(
                TableName=self.name("loads"),
                KeyConditionExpression="#k = :k",
                ExpressionAttributeNames={"#k": "kind"},
                ExpressionAttributeValues={":k": {"S": _LOAD_KIND}},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )["Items"]
        except ClientError as exc:  # a store made before loads were recorded
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            return None
        if not found:
            return None
        plain = {k: _de.deserialize(v) for k, v in found[0].items()}
        return Load(
            str(plain["batch_id"]),
            str(plain["finished_at"]),
            int(plain["dates"]),
            plain.get("date_from"),
            plain.get("date_to"),
            plain.get("latest_date"),
        )

    # -- reconciliation ------------------------------------------------------------------

    def date_rows(self, table: str, report_date: date) -> list[Row]:
        """A date's items: one Query on the partition key report_date; for track_daily and
        user_daily (keyed by track, user) the date's keys from the report_date index, then
        the items by key (BatchGetItem), both strongly consistent but for the index."""
        part = {"report_date": report_date.isoformat()}
        spec = SPECS[table]
        with _table_of(self.name(table)):
            if spec.pk in part:
                items = self._query(
                    TableName=self.name(table),
                    ConsistentRead=True,
                    **_expressions(table, {spec.pk: ("=", part[spec.pk])}, {}),
                )
            else:
                items = self._get_items(table, self._keys_of(table, part))
        return [to_row(table, i) for i in items]

    def period_rows(self, table: str, period: str, start: date) -> list[Row]:
        """One (period, period_start): a strongly consistent Query on the table's key."""
        if table not in PERIOD_TABLES:
            raise ValueError(f"{table} is not a period table")
        cond = {"period": ("=", period), "period_start": ("=", start.isoformat())}
        with _table_of(self.name(table)):
            items = self._query(
                TableName=self.name(table), ConsistentRead=True, **_expressions(table, cond, {})
            )
        return [to_row(table, i) for i in items]

    def date_table(self, table: str, report_date: date) -> pa.Table:
        """:meth:`date_rows` converted: the reads are network-bound, the conversion is not."""
        return table_of(table, self.date_rows(table, report_date), without=("report_date",))

    def period_table(self, table: str, period: str, start: date) -> pa.Table:
        rows = self.period_rows(table, period, start)
        return table_of(table, rows, without=("period", "period_start"))

    def loaded_span(self) -> tuple[date, date] | None:
        """First and last date over every recorded load: a Query of the ``loads`` partition
        (one small item per load), projected to the two dates."""
        try:
            items = self._query(
                TableName=self.name("loads"),
                KeyConditionExpression="#k = :k",
                ProjectionExpression="#f, #t",
                ExpressionAttributeNames={"#k": "kind", "#f": "date_from", "#t": "date_to"},
                ExpressionAttributeValues={":k": {"S": _LOAD_KIND}},
                ConsistentRead=True,
            )
        except ClientError as exc:  # a store made before loads were recorded
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            return None
        firsts = [i["date_from"]["S"] for i in items if "date_from" in i]
        lasts = [i["date_to"]["S"] for i in items if "date_to" in i]
        if not firsts or not lasts:
            return None
        return date.fromisoformat(min(firsts)), date.fromisoformat(max(lasts))

    def missing_tables(self) -> list[str]:
        """DescribeTable of each KPI table: reads nothing, creates nothing."""
        missing = []
        for table in KPI_COLUMNS:
            try:
                self.client.describe_table(TableName=self.name(table))
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                missing.append(table)
        return missing

    def _get_items(self, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items of ``keys`` (BatchGetItem, 100 keys a request, strongly consistent);
        unprocessed keys are asked again with backoff, and any still left raise."""
        name, found = self.name(table), []
        for first in range(0, len(keys), _GET_BATCH):
            pending = keys[first : first + _GET_BATCH]
            for attempt in range(self.backoff.attempts):
                asked = {name: {"Keys": pending, "ConsistentRead": True}}
                answer = self.client.batch_get_item(RequestItems=asked)
                found += answer["Responses"].get(name, [])
                pending = answer.get("UnprocessedKeys", {}).get(name, {}).get("Keys", [])
                if not pending:
                    break
                time.sleep(self.backoff.delay(attempt))
            else:
                raise RuntimeError(f"DynamoDB did not return {len(pending)} item(s) of {name}")
        return found

    def _query(self, **args: Any) -> list[dict[str, Any]]:
        pages = self.client.get_paginator("query").paginate(**args)
        return [item for page in pages for item in page["Items"]]


@contextlib.contextmanager
def _table_of(name: str) -> Iterator[None]:
    """A missing table as :class:`StoreNotReady`, naming it."""
    try:
        yield
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        raise StoreNotReady(f"no DynamoDB table {name}: run `musicstream run`") from None


def _query_args(q: KpiQuery) -> dict[str, Any]:
    """Key condition (and a filter for a non-key column) of one KpiQuery."""
    spec, filters = SPECS[q.table], q.filters()
    day = "period_start" if q.table in PERIOD_TABLES else "report_date"
    if q.date is None:  # a range: of one genre (its GSI), track, user or period kind
        via_index = spec.pk == day and spec.index is not None
        pk, sk = spec.index if via_index and spec.index else (spec.pk, spec.sk)
        low, high = (q.date_from or date.min).isoformat(), (q.date_to or date.max).isoformat()
        cond = {pk: ("=", filters.pop(pk)), str(sk): ("between", (low, high))}
        args: dict[str, Any] = {"IndexName": spec.index_name} if via_index else {}
    else:
        pk_value = filters.pop(spec.pk) if spec.pk != day else q.date.isoformat()
        cond, args = {spec.pk: ("=", pk_value)}, {}
        if spec.sk == day:
            cond[day] = ("=", q.date.isoformat())
        elif spec.sk in filters:
            cond[spec.sk] = ("=", filters.pop(spec.sk))
        elif spec.sk == "genre_rank" and "genre" in filters:
            g = filters.pop("genre")
            cond[spec.sk] = ("between", (f"{g}#{'0' * RANK_WIDTH}", f"{g}#{'9' * RANK_WIDTH}"))
    # Strongly consistent where DynamoDB offers it (not on a GSI): a read after a load
    # finished sees that load's items.
    args.setdefault("ConsistentRead", "IndexName" not in args)
    return {**args, **_expressions(q.table, cond, filters)}


def _expressions(
    table: str,
    cond: dict[str, tuple[str, Any]],
    filters: dict[str, str],
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Key condition and filter expressions; ``names`` has placeholders already taken."""
    names = dict(names or {})
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
