"""`musicstream verify`: the serving store reconciled with the lake, and the lake with its
ledger. Read-only: no run lock, no write.

- **Store against lake** (compare.py). Each KPI table's rows of a date (``active_listeners``:
  of a period) in the store, read by that date's key as one Arrow table
  (:meth:`Store.date_table`, :meth:`Store.period_table`: a key range or a Query, never a
  scan), against the lake's KPI Parquet: the same rows in any order. A partition that
  differs is read again as rows (:meth:`Store.date_rows`) to say how: the numbers of rows,
  or an order-independent checksum of them, and the key of a first differing row.
- **Which dates.** Every date from ``--from`` to ``--to``; by default from the lake's first
  to its last date (curated streams or KPI partitions), widened to the dates the store's
  recorded loads span (:meth:`Store.loaded_span`). The store is asked about every date of
  the range, not only the lake's: that is how rows the lake lacks are found without a scan,
  at one key lookup per table and date. Rows outside every recorded load (written by hand)
  are found only when ``--from``/``--to`` cover them.
- **Lake against itself** (lake.py). Every committed or archived batch's curated stream files
  exist and hold the kept streams its ledger entry recorded; every date with curated streams
  has the KPI partitions such a date always has; a date with KPI partitions has streams.

Every finding names what repairs it (findings.py). ``backfill`` recomputes a date from its
curated streams and reloads it, so it repairs the store and the KPIs; but it skips a date
without curated streams, and nothing in musicstream rebuilds a lost curated file. Those
findings say so. A batch running while verify reads may show as a difference that the batch
then removes: verify again after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from musicstream import layout
from musicstream.curate import curated_dates
from musicstream.datasets import KPI_COLUMNS, KPI_TABLES, PERIOD_TABLES
from musicstream.errors import StoreNotReady, UserError
from musicstream.lake import Lake, open_lake
from musicstream.settings import Settings
from musicstream.stores import Store, create_store, store_name
from musicstream.verify.compare import compare
from musicstream.verify.findings import Finding, Part, Repairs
from musicstream.verify.lake import check_kpis, check_ledger, kpi_missing, kpi_parts

__all__ = ["TABLES", "Finding", "Report", "verify", "verify_loaded"]

TABLES: tuple[str, ...] = tuple(KPI_COLUMNS)  # the date tables, then active_listeners


@dataclass
class Report:
    """What was checked (how many tables and dates), and every finding in the order found."""

    lake: str
    store: str
    tables: tuple[str, ...]
    dates: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "findings": [f.row() for f in self.findings]}


def verify_loaded(
    lake: Lake, store: Store, dates: Sequence[date], flags: str = ""
) -> list[Finding]:
    """The store against the lake for exactly ``dates`` and their periods, every KPI table:
    for the pipeline after it loads a batch's dates. One lake read and one key read per
    table and date, as the load itself did; no findings when they match. ``flags`` is
    added to the repair commands (say ``--store dynamodb``)."""
    days = sorted(set(dates))
    parts = kpi_parts((*KPI_TABLES, *PERIOD_TABLES), days)
    return compare(lake, store, parts, Repairs(lake, days, flags))


def verify(
    settings: Settings,
    date_from: date | None = None,
    date_to: date | None = None,
    tables: Sequence[str] = (),
    on_date: Callable[[str], None] | None = None,
    flags: str = "",
) -> Report:
    """Every check of the module docstring over the range, for ``tables`` (all by default;
    naming tables leaves out the ledger's checks, which are about no table)."""
    chosen = chosen_tables(tables)
    lake = open_lake(settings.lake, settings.aws_endpoint_url, settings.aws_region)
    lake.require()
    curated = set(curated_dates(lake))
    files = {p for t in chosen for p in lake.files(layout.kpi_table(t))}
    store, missing = _open_store(settings)
    report = Report(lake.url, store_name(settings), chosen, 0)
    try:
        span = store.loaded_span() if store is not None else None
        days = _dates(date_from, date_to, curated | _days(files), span)
        report.dates, repairs = len(days), Repairs(lake, curated, flags)
        if not tables:
            report.findings += check_ledger(lake, days, repairs)
        explained = {f.day for f in report.findings if f.table == "curated"}
        report.findings += check_kpis(chosen, days, curated, files, explained, repairs)
        if store is None or set(missing) >= set(TABLES):
            report.findings += _store_missing(settings, days, curated, repairs)
            return report
        absent = [t for t in chosen if t in missing]
        fix = repairs.everything()
        report.findings += [Finding(t, None, f"the store has no {t} table", fix) for t in absent]
        present = [t for t in chosen if t not in missing]
        parts = _parts(present, days, curated, files, on_date)
        report.findings += compare(lake, store, parts, repairs, files)
    finally:
        if store is not None:
            store.close()
    return report


def chosen_tables(tables: Sequence[str]) -> tuple[str, ...]:
    """The KPI tables to check (all when none are named); an unknown name is a UserError."""
    for name in tables:
        if name not in TABLES:
            raise UserError(f"unknown KPI table {name!r}; one of {', '.join(TABLES)}")
    return tuple(t for t in TABLES if not tables or t in tables)


def _parts(
    tables: Sequence[str],
    days: Sequence[date],
    curated: set[date],
    files: set[str],
    on_date: Callable[[str], None] | None,
) -> Iterator[Part]:
    """Each date's partitions, then the periods', but those the lake misses although it
    has their streams (``check_kpis`` reports them); ``on_date`` after each date's."""
    for day in days:
        dated = (p for p in kpi_parts(tables, [day]) if p.period is None)
        yield from (p for p in dated if not kpi_missing(p, curated, files))
        if on_date is not None:
            on_date(str(day))
    periods = [p for p in kpi_parts(tables, days) if p.period is not None]
    yield from (p for p in periods if not kpi_missing(p, curated, files))


def _dates(
    date_from: date | None,
    date_to: date | None,
    lake_days: set[date],
    span: tuple[date, date] | None,
) -> list[date]:
    """``--from`` … ``--to``, each bound by default the outermost date of the lake and of
    the store's loads; none when neither holds a date."""
    known = sorted(lake_days | set(span or ()))
    first = date_from or (known[0] if known else None)
    last = date_to or (known[-1] if known else None)
    if first is None or last is None or first > last:
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _days(files: Iterable[str]) -> set[date]:
    """The report dates of KPI files (a period file's start is no date of the lake's)."""
    return {d for d in map(layout.day_of, files) if d is not None}


def _open_store(settings: Settings) -> tuple[Store | None, list[str]]:
    """The store opened read-only and the KPI tables it lacks; None when there is none."""
    try:
        store = create_store(settings, read_only=True)
    except StoreNotReady:
        return None, list(TABLES)
    return store, store.missing_tables()


def _store_missing(
    settings: Settings, days: Sequence[date], curated: set[date], repairs: Repairs
) -> list[Finding]:
    """One finding for a store that is not there, when the lake has something to serve."""
    if not any(d in curated for d in days):
        return []
    problem = f"{store_name(settings)} is missing (or has no tables): rebuild it from the lake"
    return [Finding("store", None, problem, repairs.everything())]
