"""Volume: a date's kept streams against the same weekday of the weeks before."""

from __future__ import annotations

import statistics
from datetime import date
from typing import Any

from musicstream import layout
from musicstream.health.ledger import VISIBLE, HealthWarning
from musicstream.lake import Lake
from musicstream.settings import Settings
from musicstream.state import COMPUTED, Batch

SAME_WEEKDAYS = 4  # a date's volume history
VOLUME_TABLE = "genre_daily"  # every kept stream has a genre: its listen_count sums them


class Volumes:
    """Kept streams per date from the KPI files, listed once and each read once."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._files: dict[date, str] | None = None
        self._counts: dict[date, int] = {}

    @property
    def files(self) -> dict[date, str]:
        if self._files is None:
            listed = self.lake.files(layout.kpi_table(VOLUME_TABLE))
            self._files = {d: p for p in listed if (d := layout.day_of(p)) is not None}
        return self._files

    def streams(self, day: date) -> int:
        if day not in self._counts:
            counts = self.lake.parquet(self.files[day]).read(["listen_count"]).column(0)
            self._counts[day] = sum(counts.to_pylist())
        return self._counts[day]

    def history(self, day: date) -> list[date]:
        """The last same weekdays before ``day`` that have data."""
        same = [d for d in sorted(self.files) if d < day and (day - d).days % 7 == 0]
        return same[-SAME_WEEKDAYS:]

    def check(self, settings: Settings, batch: Batch) -> list[HealthWarning]:
        if batch.status not in (COMPUTED, *VISIBLE):
            return []
        found = []
        for day in (date.fromisoformat(d) for d in batch.dates):
            if day >= batch.clock_dt.date() or day not in self.files:
                continue  # still filling at the batch's clock, or no KPI file
            history = self.history(day)
            if len(history) < settings.volume_min_history:
                continue
            found += self._judge(settings, batch, day, history)
        return found

    def _judge(
        self, settings: Settings, batch: Batch, day: date, history: list[date]
    ) -> list[HealthWarning]:
        count = self.streams(day)
        median = statistics.median(self.streams(d) for d in history)
        ratio = count / median if median else float("inf")
        if settings.volume_low_ratio <= ratio <= settings.volume_high_ratio:
            return []
        weekday, way = f"{day:%A}", "low" if ratio < settings.volume_low_ratio else "high"
        message = (
            f"{day} ({weekday}) has {count:,} streams, {ratio:.0%} of the median {median:,.0f} "
            f"of its last {len(history)} {weekday}s: unusually {way} (warns below "
            f"{settings.volume_low_ratio:.0%}, above {settings.volume_high_ratio:.0%})"
        )
        numbers: dict[str, Any] = {"streams": count, "median": median, "ratio": round(ratio, 4)}
        numbers["history"] = [d.isoformat() for d in history]
        w = HealthWarning("volume", message, batch.batch_id, "streams", str(day), numbers=numbers)
        return [w]
