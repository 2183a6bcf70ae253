"""What validation records besides the clean rows, written once for both engines: each file's
counts (rows read, kept, per reason and warning) and the quarantine of the bad rows.

The queries are DuckDB SQL, like the shared ``.sql`` files (the Spark engine translates
them). They read the relations every engine registers while validating ``<dataset>``:
``checked_<dataset>`` (the rules' verdicts), ``raw_<dataset>`` (the well-formed records as
read, with ``_line``), ``malformed_<dataset>`` (the broken ones) and ``source_files``
(``_file_idx`` → ``source_file``, the file's lake path).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from musicstream import layout
from musicstream.datasets import BY_NAME
from musicstream.engines import FileCounts, FileSpec

if TYPE_CHECKING:
    from musicstream.lake import Lake

KEPT, MALFORMED = "kept", "malformed_row"
QUARANTINE_ORDER = ("source_file", "line")  # how a batch's quarantine file is sorted


def counts_query(dataset: str) -> str:
    """``(_file_idx, reason, n)``: reason ``kept``, NULL (a row with reasons), each reason
    and warning, ``malformed_row``. One small aggregate over the checked rows."""
    return f"""
        select _file_idx, reason, count(*) as n from (
            select _file_idx, case when reasons = '' then '{KEPT}' end as reason
            from checked_{dataset}
            union all
            select _file_idx, unnest(string_split(reasons, ';')) as reason
            from checked_{dataset} where reasons <> ''
            union all
            select _file_idx, warnings from checked_{dataset}
            where reasons = '' and warnings is not null
            union all
            select _file_idx, '{MALFORMED}' from malformed_{dataset}
        ) as found
        group by _file_idx, reason
    """


def file_counts(
    files: Sequence[FileSpec], rows: Iterable[tuple[int, str | None, int]]
) -> list[FileCounts]:
    """Each file's ``FileCounts`` from the rows of :func:`counts_query`, in ``files`` order."""
    counts = {s.index: FileCounts(s.index) for s in files}
    for idx, reason, n in rows:
        found = counts[idx]
        if reason is None or reason == KEPT:
            found.rows_read += n
            found.rows_kept += n if reason == KEPT else 0
            continue
        found.reasons[reason] = n
        if reason == MALFORMED:
            found.rows_read += n
    for found in counts.values():
        found.rows_quarantined = found.rows_read - found.rows_kept
    return [counts[s.index] for s in files]


def quarantine_query(dataset: str, line: str = "raw._line") -> str:
    """Every quarantined row: its fields as read, reasons, physical start line, raw text
    (a malformed record's) and source file; unsorted (see ``QUARANTINE_ORDER``).

    ``line`` is the SQL of a bad well-formed row's line, ``raw`` being its raw record.
    """
    columns = BY_NAME[dataset].columns
    fields = ", ".join(f'raw."{c}"' for c in columns)
    nulls = ", ".join(f'cast(null as varchar) as "{c}"' for c in columns)
    names = ", ".join(f'found."{c}"' for c in columns)
    return f"""
        with bad as (
            select {fields}, checked.reasons, {line} as line,
                cast(null as varchar) as raw_record, checked._file_idx
            from checked_{dataset} as checked
            inner join raw_{dataset} as raw
                on checked._file_idx = raw._file_idx and checked._ord = raw._ord
            where checked.reasons <> ''
        ),

        found as (
            select * from bad
            union all
            select {nulls}, '{MALFORMED}', line, raw_record, _file_idx
            from malformed_{dataset}
        ),

        final as (
            select {names}, found.reasons, found.line, found.raw_record, files.source_file
            from found
            inner join source_files as files on found._file_idx = files._file_idx
        )

        select * from final
    """


def quarantine_target(
    lake: Lake, dataset: str, batch_id: str, counts: Sequence[FileCounts]
) -> str | None:
    """Where the batch's quarantine of ``dataset`` goes; None when no row is quarantined,
    after removing an earlier attempt's file (over other files: see validate.py)."""
    rel = layout.quarantine_file(dataset, batch_id)
    if any(c.rows_quarantined for c in counts):
        return rel
    lake.remove(rel)
    return None
