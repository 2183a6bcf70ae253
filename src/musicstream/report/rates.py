"""Data-quality rates of the report: per dataset and reason, the share of the rows read.

From the rows of the ``quality_by_batch`` query (one per batch, dataset and reason, with
its outcome: ``kept``, ``quarantined`` or ``warning``), summed over the period's batches.
Rows read = kept + quarantined. ``batch_quality`` counts a row with several reasons once
per reason, so for such rows the read count (and the "any reason" share) is an upper bound,
never a guess that hides rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from musicstream.datasets import DATASETS

Row = dict[str, Any]  # a batch_quality row, as the charts hold it

ANY = "quarantined (any reason)"
_ORDER = [d.name for d in DATASETS]


@dataclass(frozen=True)
class QualityRates:
    """Rows per (dataset, reason) and rows read per dataset, over the period.

    ``reasons`` lists ANY first, then the quarantine reasons, then the warnings (rows kept
    anyway), each group sorted by name; ``warnings`` names the warning codes among them.
    """

    datasets: list[str]
    reasons: list[str]
    warnings: frozenset[str]
    counts: dict[tuple[str, str], int]
    read: dict[str, int]

    @property
    def labels(self) -> list[str]:
        """The reasons as the charts show them: warnings marked as kept."""
        return [f"{r} (warning, kept)" if r in self.warnings else r for r in self.reasons]

    def rate(self, dataset: str, reason: str) -> float | None:
        """Share of the dataset's rows read with this reason; None when it never occurred
        (a reason of another dataset), 0.0 for ANY on a clean dataset."""
        rows = self.counts.get((dataset, reason))
        if rows is None or not self.read[dataset]:
            return None
        return rows / self.read[dataset]

    def detail(self, dataset: str, reason: str) -> str:
        """'2 of 25 rows', or '' for a cell without a rate."""
        rows = self.counts.get((dataset, reason))
        return "" if rows is None else f"{rows:,} of {self.read[dataset]:,} rows"


def quality_rates(rows: list[Row]) -> QualityRates:
    """Sum the ``quality_by_batch`` rows over batches into rates per dataset and reason."""
    counts: dict[tuple[str, str], int] = {}
    kept: dict[str, int] = {}
    bad: dict[str, int] = {}
    outcome: dict[str, str] = {}
    for r in rows:
        dataset, reason, n = r["dataset"], r["reason"], r["rows"]
        kept.setdefault(dataset, 0)
        bad.setdefault(dataset, 0)
        if r["outcome"] == "kept":
            kept[dataset] += n
            continue
        counts[dataset, reason] = counts.get((dataset, reason), 0) + n
        outcome[reason] = r["outcome"]
        bad[dataset] += n if r["outcome"] == "quarantined" else 0
    read = {d: kept[d] + bad[d] for d in kept}
    counts |= {(d, ANY): bad[d] for d in kept}
    warnings = frozenset(r for r, o in outcome.items() if o == "warning")
    quarantine = sorted(set(outcome) - warnings)
    datasets = sorted(kept, key=lambda d: (_ORDER.index(d) if d in _ORDER else len(_ORDER), d))
    return QualityRates(datasets, [ANY, *quarantine, *sorted(warnings)], warnings, counts, read)
