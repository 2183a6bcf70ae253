"""A strict RFC 4180 scan of a text file into the ``records`` layout of ``FileSpec``.

Python's ``csv`` module cuts the records (in C); this module counts the physical lines each
one took, keeps its raw text, and holds it to the grammar ``csv`` is lenient about: a quote
may only open a field or be doubled inside a quoted one, a backslash is an ordinary
character, and a record has exactly the header's number of fields (``a,b,c,,`` has five).
A record that breaks any of this, or holds a NUL, is malformed and keeps its raw text and
the line it starts on. Blank lines are not records.

Used only for files with quotes or control bytes (admit/); a plain file is split by the
engines themselves, which is ~10x faster than this.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from typing import TextIO

_FIELD = r'(?:"(?:[^"]|"")*"|[^",\n]*)'
_RECORD = re.compile(rf"{_FIELD}(?:,{_FIELD})*")


class _Lines:
    """The file's lines (newline kept), counting them and keeping those of the record."""

    def __init__(self, fh: TextIO) -> None:
        self.fh, self.count = fh, 0
        self.taken: list[str] = []

    def __iter__(self) -> Iterator[str]:
        for line in self.fh:
            self.count += 1
            self.taken.append(line)
            yield line


def write_records(src: str, dst: str, n_fields: int) -> None:
    """Scan ``src`` (UTF-8, LF) and write its records to ``dst`` with line and raw text."""
    with (
        open(src, encoding="utf-8-sig", newline="") as fh,
        open(dst, "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["_line", "_raw", *(f"c{i}" for i in range(n_fields))])
        empty = [""] * n_fields
        for line, raw, fields in records(fh, n_fields):
            if fields is None:
                writer.writerow([line, raw, *empty])
            else:
                writer.writerow([line, "", *fields])


def records(fh: TextIO, n_fields: int) -> Iterator[tuple[int, str, list[str] | None]]:
    """(start line, raw text, fields or None when malformed) of each record after the header."""
    lines = _Lines(fh)
    reader = csv.reader(lines, strict=True)
    header = True
    while True:
        start = lines.count + 1
        lines.taken.clear()
        try:
            fields: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error:
            fields = None
        raw = "".join(lines.taken).removesuffix("\n")
        if header:
            header = False
            continue
        if fields == []:
            continue  # a blank line
        if fields is None or len(fields) != n_fields or "\x00" in raw or not _RECORD.fullmatch(raw):
            yield start, raw or " ", None
        else:
            yield start, raw, fields
