"""What verify reports: findings, the store partitions they are about, and the command lines
that repair them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from musicstream import layout
from musicstream.lake import Lake
from musicstream.periods import period_of
from musicstream.stores import Row, Store

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class Finding:
    """One difference: where (a KPI table, or ``curated``, ``kpis``, ``store``, ``ledger``;
    a date, or a period's start), what differs, and what repairs it."""

    table: str
    day: date | None
    problem: str
    repair: str
    period: str | None = None

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "day": None if self.day is None else self.day.isoformat()}


@dataclass(frozen=True)
class Part:
    """One partition of a KPI table as the store replaces it: a date, or a period."""

    table: str
    day: date  # the date, or the period's start
    period: str | None = None

    @property
    def span(self) -> tuple[date, date]:
        """The dates whose curated streams the partition is computed from."""
        if self.period is None:
            return self.day, self.day
        found = period_of(self.period, self.day)
        return found.start, found.end

    def file(self) -> str:
        if self.period is None:
            return layout.kpi_file(self.table, self.day)
        return layout.kpi_period_file(self.table, self.period, self.day)

    def in_store(self, store: Store) -> list[Row]:
        if self.period is None:
            return store.date_rows(self.table, self.day)
        return store.period_rows(self.table, self.period, self.day)

    def in_store_table(self, store: Store) -> pa.Table:
        """The partition's rows in the store as an Arrow table, without its folder keys."""
        if self.period is None:
            return store.date_table(self.table, self.day)
        return store.period_table(self.table, self.period, self.day)


class Repairs:
    """The command lines findings name, for one lake: ``backfill`` recomputes the dates of a
    range that have curated streams and reloads them (and their periods). ``flags`` repeats
    the options that chose the store (``--store``, ``--config``)."""

    def __init__(self, lake: Lake, curated: Iterable[date], flags: str = "") -> None:
        self.curated = sorted(set(curated))
        self.flags = f" --lake {lake.url}{flags}"

    def backfill(self, first: date, last: date) -> str:
        return f"musicstream backfill --from {first} --to {last}{self.flags}"

    def everything(self) -> str:
        """Every curated date recomputed and loaded: a store rebuilt from the lake."""
        if not self.curated:
            return "none needed: the lake has no curated streams to serve"
        return self.backfill(self.curated[0], self.curated[-1])

    def rebuild(self) -> str:
        """For store rows backfill cannot reach (no curated streams): remove, rebuild."""
        if not self.curated:
            return "remove the store: the lake has no curated streams to serve"
        return (
            f"remove the store, then `{self.everything()}` (backfill skips dates without streams)"
        )

    def of(self, part: Part) -> str:
        """Backfill of the curated dates a partition is computed from; a rebuild if none."""
        first, last = part.span
        mine = [d for d in self.curated if first <= d <= last]
        return self.backfill(mine[0], mine[-1]) if mine else self.rebuild()

    def restore(self, rel: str, first: date, last: date) -> str:
        """For lost curated streams: nothing in musicstream rebuilds them."""
        return (
            f"restore {rel} from a backup, then `{self.backfill(first, last)}` (no command "
            "rebuilds curated streams: their raw files, landed again, are skipped as seen)"
        )
