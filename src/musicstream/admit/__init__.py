"""Admit: the per-file boundary between a landing file and the engines (SPEC §2).

Every planned file passes here before an engine reads it. Whatever goes wrong with one file
(it vanished, cannot be read, is not gzip, is not in the input encoding, or anything else
raised while reading it) becomes that file's one file-level reason: the file is quarantined
whole and the rest of the batch goes on. What comes out for a readable file is a local
UTF-8 file with LF line ends, NFC text (decode.py), in one of the two layouts of
``FileSpec``:

- ``lines`` — the fast path, nothing copied for a plain local UTF-8 file: no ``"``, NUL,
  or ``\\x01`` after the header, so every line is one record and the engines split it;
- ``records`` — a strict RFC 4180 scan (``scan.py``) for anything with quotes, written out
  with each record's physical line and, for a broken one, its raw text.

Only conditions of the machine itself escape the boundary, so that the run fails and is
retried: out of memory, and OS errors while *writing* our own scratch files (a full disk);
errors while reading the file are turned into its reason where they happen.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
from dataclasses import dataclass

from musicstream.admit.decode import (
    CHUNK,
    FileRejected,
    check_direct,
    decoded,
    file_bytes,
    read_chunks,
    write_text,
)
from musicstream.datasets import BY_NAME
from musicstream.engines import LINES, RECORDS, FileSpec, is_environment_error
from musicstream.lake import Lake, one_line
from musicstream.scan import write_records
from musicstream.state import FileEntry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Admitted:
    """What admission made of one file: a spec for the engine, or a file-level reason."""

    entry: FileEntry
    spec: FileSpec | None
    reason: str | None = None
    detail: str | None = None
    changed: bool = False  # the landing file's content is no longer the planned one


def admit(
    lake: Lake, dataset: str, entry: FileEntry, index: int, folder: str, encoding: str
) -> Admitted:
    """Admit one planned file into ``folder`` (local scratch), never raising for its data."""
    if entry.reason:  # quarantined whole when it was planned (unsupported, unreadable)
        return Admitted(entry, None, entry.reason, entry.detail)
    try:
        spec = _admit(lake, dataset, entry, index, folder, encoding)
    except FileRejected as exc:
        if exc.reason == "changed":
            return Admitted(entry, None, changed=True, detail=exc.detail)
        return Admitted(entry, None, exc.reason, exc.detail)
    except Exception as exc:  # the boundary: anything else about this one file
        # Not the file's: reading errors are FileRejected, so an OSError or MemoryError is
        # about our writes; after a stop signal, what it interrupted.
        if is_environment_error(exc):
            raise
        log.warning("%s could not be read: %s", entry.path, one_line(exc))
        log.debug("admission error", exc_info=True)
        return Admitted(entry, None, "unreadable_file", one_line(exc))
    return Admitted(entry, spec)


def _admit(
    lake: Lake, dataset: str, entry: FileEntry, index: int, folder: str, encoding: str
) -> FileSpec:
    raw = _local_copy(lake, entry, os.path.join(folder, f"{index}.raw"))
    text = os.path.join(folder, f"{index}.txt")
    gz = entry.path.lower().endswith(".gz")
    shape = check_direct(raw, encoding) if not gz else None
    if shape is None:  # not readable as it is: decoded, normalised, written out
        shape = write_text(decoded(file_bytes(raw, gz), encoding), text)
    else:
        text = raw
    header = _header(text)
    layout, path, uniform = LINES, text, shape.uniform(len(header))
    if shape.special:
        layout, path = RECORDS, os.path.join(folder, f"{index}.records.csv")
        write_records(text, path, len(header))
    missing = [c for c in BY_NAME[dataset].required if c not in header]
    if missing:
        log.warning("%s lacks required column(s) %s", entry.path, ", ".join(missing))
    reason = "missing_columns" if missing else None
    return FileSpec(index, entry.path, path, header, reason, layout, uniform)


def _local_copy(lake: Lake, entry: FileEntry, target: str) -> str:
    """A local path holding exactly the planned content, or FileRejected.

    A local lake reads the copy staged at planning (or the landing file of a batch planned
    before staging existed, checked against the planned hash); a remote one downloads.
    """
    if lake.is_local and entry.staged:
        path = lake.path(entry.staged)
        if not os.path.exists(path):
            raise FileRejected("missing_file", f"the staged copy of {entry.path} is gone")
        return path
    source = entry.path
    digest = _download(lake, source, target)
    if digest != entry.sha256:
        raise FileRejected("changed", f"{entry.path} changed after planning")
    return target


def _download(lake: Lake, rel: str, target: str) -> str:
    """Copy ``rel`` to ``target`` and return the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in read_chunks(lambda: lake.fs.open(lake.path(rel), "rb", block_size=CHUNK), rel):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _header(path: str) -> tuple[str, ...]:
    """Normalized header names of a text file: () when it has no header line."""
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20).decode("utf-8-sig", errors="replace")
    cells = next(csv.reader(io.StringIO(first)), [])
    return normalize_header(cells)


def normalize_header(cells: list[str]) -> tuple[str, ...]:
    """Trim and lower-case names; blank or repeated names get unique placeholders."""
    names: list[str] = []
    for i, cell in enumerate(cells):
        name = cell.strip(" \t").lower() or f"_column_{i}"
        while name in names:
            name = f"{name}_{i}"
        names.append(name)
    return tuple(names)
