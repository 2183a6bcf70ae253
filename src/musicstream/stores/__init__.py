"""KPI serving stores, chosen by name from settings: SQLite (embedded) or DynamoDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from musicstream.datasets import KPI_COLUMNS
from musicstream.errors import UserError
from musicstream.plugins import load_class

if TYPE_CHECKING:
    import pyarrow as pa

    from musicstream.settings import Settings, StoreName


@dataclass(frozen=True)
class KpiQuery:
    """One of the SPEC §5 access patterns: a date, or a date range for a genre or a track."""

    table: str
    date: dt.date | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    genre: str | None = None
    track: str | None = None

    def check(self) -> None:
        """Reject combinations no key serves, with a message that says what would."""
        if self.table not in KPI_COLUMNS:
            raise UserError(f"unknown KPI table {self.table!r}; one of {', '.join(KPI_COLUMNS)}")
        ranged = self.date_from is not None or self.date_to is not None
        if self.date is None and not ranged:
            raise UserError("give --date, or --from/--to with --genre or --track")
        if self.date is not None and ranged:
            raise UserError("give either --date or --from/--to, not both")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise UserError(f"--from {self.date_from} is after --to {self.date_to}")
        if ranged and not (
            (self.table == "genre_daily" and self.genre)
            or (self.table == "track_daily" and self.track)
        ):
            raise UserError(
                "a date range is served for one genre (genre_daily --genre G) "
                "or one track (track_daily --track ID)"
            )
        if self.date is not None and self.table == "track_daily" and not self.track:
            raise UserError("track_daily is read per track: add --track ID")


Row = dict[str, Any]


class Store(Protocol):
    """What the load stage and the `kpis` command ask of a serving store."""

    def init(self) -> None:
        """Create tables and indexes; safe to call again."""
        ...

    def replace_date(self, report_date: dt.date, tables: Mapping[str, pa.Table]) -> None:
        """Make the store's rows of ``report_date`` exactly ``tables`` (per-date replace)."""
        ...

    def query(self, q: KpiQuery) -> list[Row]:
        """Rows for one access pattern, via keys only (never a full scan)."""
        ...

    def close(self) -> None: ...


STORES: dict[StoreName, str] = {
    "sqlite": "musicstream.stores.sqlite:SQLiteStore",
    "dynamodb": "musicstream.stores.dynamodb:DynamoDBStore",
}


def create_store(settings: Settings, read_only: bool = False) -> Store:
    """The store named in settings; ``read_only`` for commands that only read it.

    A read-only open never creates the store (nor the lake it lives in). A store class that
    creates nothing when opened (DynamoDB: tables are made by ``init``) needs no such path.
    """
    cls = load_class("store", STORES, settings.store, extra="aws")
    store: Store = getattr(cls, "open_read_only", cls)(settings) if read_only else cls(settings)
    return store
