"""The periods a date falls in (SPEC §3, ``active_listeners``): its day, ISO week, month.

A period is ``(kind, start, end)``: the date itself; the Monday of its ISO week to the
Sunday (a week may span a month or a year boundary: it belongs to neither); the 1st of its
month to the last day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

from musicstream.datasets import PERIODS


class Period(NamedTuple):
    kind: str  # 'day', 'week' or 'month'
    start: date
    end: date

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=k) for k in range((self.end - self.start).days + 1)]


def period_of(kind: str, day: date) -> Period:
    """The period of kind ``kind`` that ``day`` falls in."""
    if kind == "day":
        return Period(kind, day, day)
    if kind == "week":
        monday = day - timedelta(days=day.weekday())
        return Period(kind, monday, monday + timedelta(days=6))
    if kind == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=31)).replace(day=1)
        return Period(kind, first, following - timedelta(days=1))
    raise ValueError(f"unknown period {kind!r}; one of {', '.join(PERIODS)}")


def periods_of(dates: Iterable[date]) -> list[Period]:
    """Every period (of each kind) that one of ``dates`` falls in, each once, sorted."""
    return sorted({period_of(kind, day) for day in dates for kind in PERIODS})


def covered_dates(periods: Iterable[Period]) -> list[date]:
    """Every date of ``periods``: the curated streams their rows are computed from."""
    return sorted({day for p in periods for day in p.dates()})
