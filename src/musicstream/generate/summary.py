"""What a generator run wrote, so tests can hold the pipeline's quarantine against it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GenerateSummary:
    """Files, row counts and injected bad rows of one generated landing zone.

    - ``files``: dataset (``songs``/``users``/``streams``) -> files written, in write order.
    - ``rows``: dataset -> data rows (lines after the header) over all its files, i.e. what a
      pipeline reads; includes the bad rows and ``streams/bad/missing-columns.csv``.
    - ``injected``: dataset -> SPEC reason code -> rows written to be quarantined with that
      reason. ``songs.duplicate_track_id`` counts the Spotify-style repeated ids (present
      even when clean); ``streams.missing_columns`` is the missing-columns file's rows.
    - ``extras``: valid-but-notable counts that are no quarantine reason (empty countries,
      quoted/padded ids, and for an increment its late/new/changed rows).
    """

    out_dir: Path
    files: Mapping[str, tuple[Path, ...]]
    rows: Mapping[str, int]
    injected: Mapping[str, Mapping[str, int]]
    extras: Mapping[str, int] = field(default_factory=dict)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written, songs then users then streams."""
        return tuple(p for files in self.files.values() for p in files)

    def bad_rows(self, dataset: str) -> int:
        """All rows of ``dataset`` written to be quarantined (any reason)."""
        return sum(self.injected.get(dataset, {}).values())
