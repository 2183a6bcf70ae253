"""Admit: the per-file boundary between a landing file and the engines (SPEC §2).

Every planned file passes here before an engine reads it. Whatever goes wrong with one file
(it vanished, cannot be read, is not gzip, is not in the input encoding, or anything else
raised while reading it) becomes that file's one file-level reason: the file is quarantined
whole and the rest of the batch goes on. What comes out for a readable file is a local
UTF-8 file with LF line ends, NFC text, in one of the two layouts of ``FileSpec``:

- ``lines`` — the fast path, nothing copied for a plain local UTF-8 file: no ``"``, NUL,
  or ``\\x01`` after the header, so every line is one record and the engines split it;
- ``records`` — a strict RFC 4180 scan (``scan.py``) for anything with quotes, written out
  with each record's physical line and, for a broken one, its raw text.

Only conditions of the machine itself escape the boundary, so that the run fails and is
retried: out of memory, and OS errors while *writing* our own scratch files (a full disk);
errors while reading the file are turned into its reason where they happen.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from musicstream.datasets import BY_NAME
from musicstream.engines import LINES, RECORDS, FileSpec
from musicstream.lake import Lake, one_line
from musicstream.scan import write_records
from musicstream.state import FileEntry

log = logging.getLogger(__name__)

_CHUNK = 8 << 20
# Bytes that make a file take the records layout: quoting, NULs, and the byte the engines
# use as a never-matching delimiter to read whole lines.
_SPECIAL = (b'"', b"\x00", b"\x01")


class FileRejected(Exception):
    """A file-level quarantine: ``reason`` of SPEC §2 and a one-line ``detail``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


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
    except (MemoryError, OSError):  # reading errors are FileRejected: these are our writes
        raise
    except Exception as exc:  # the boundary: anything else about this one file
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
    shape = _check_direct(raw, encoding) if not gz else None
    if shape is None:  # not readable as it is: decoded, normalised, written out
        shape = _write_text(_decoded(_bytes(raw, gz), encoding), text)
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


class _Shape:
    """What engines need to know of a text file, counted on its bytes as they pass: whether
    anything after the header needs the records layout, and whether every record has the
    header's field count with no blank line between (then a plain CSV parse is exact)."""

    def __init__(self) -> None:
        self.special = self.blank = False
        self.in_header = True
        self.commas = self.newlines = 0
        self.last = b""

    def feed(self, data: bytes) -> None:
        if self.in_header:
            cut = data.find(b"\n")
            if cut < 0:
                return
            data, self.in_header, self.last = data[cut + 1 :], False, b"\n"
        if not data:
            return
        self.special = self.special or any(s in data for s in _SPECIAL)
        self.commas += data.count(b",")
        self.newlines += data.count(b"\n")
        if b"\n\n" in data or (self.last == b"\n" and data.startswith(b"\n")):
            self.blank = True
        self.last = data[-1:]

    def uniform(self, fields: int) -> bool:
        records = self.newlines + (1 if self.last not in (b"", b"\n") else 0)
        return not self.special and not self.blank and self.commas == (fields - 1) * records


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
    import hashlib

    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in _read(lambda: lake.fs.open(lake.path(rel), "rb", block_size=_CHUNK), rel):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _read(opener: Callable[[], BinaryIO], name: str) -> Iterator[bytes]:
    """The chunks of the file ``opener`` opens; reading errors are the file's (FileRejected)."""
    try:
        fh = opener()
    except FileNotFoundError:
        raise FileRejected("missing_file", f"{name} is no longer there") from None
    except OSError as exc:
        raise FileRejected("unreadable_file", one_line(exc)) from None
    with fh:
        while True:
            try:
                chunk = fh.read(_CHUNK)
            except OSError as exc:
                raise FileRejected("unreadable_file", one_line(exc)) from None
            if not chunk:
                return
            yield chunk


def _bytes(path: str, gz: bool) -> Iterator[bytes]:
    """The file's bytes, decompressed when ``gz`` (every member; a damaged one rejected)."""
    chunks = _read(lambda: open(path, "rb"), path)  # noqa: SIM115 - _read closes it
    if not gz:
        yield from chunks
        return
    inflate = zlib.decompressobj(wbits=31)
    for data in chunks:
        while data:
            try:
                yield inflate.decompress(data)
            except zlib.error as exc:
                raise FileRejected("corrupt_compression", f"not valid gzip: {exc}") from None
            data = inflate.unused_data
            if inflate.eof and data:  # another gzip member follows
                inflate = zlib.decompressobj(wbits=31)
    if not inflate.eof:
        raise FileRejected("corrupt_compression", "gzip data ends before its end marker")


def _check_direct(path: str, encoding: str) -> _Shape | None:
    """The file's shape when engines can read it as it is, else None.

    As it is: UTF-8 (BOM allowed) in NFC with LF line ends — checked on bytes, so ASCII
    chunks cost a few memchr-speed scans; only non-ASCII text is decoded.
    """
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    shape, offset, tail = _Shape(), 0, ""
    for chunk in _bytes(path, gz=False):
        if not offset and chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return None
        if b"\r" in chunk:
            return None
        shape.feed(chunk)
        if chunk.isascii() and not decoder.getstate()[0]:
            # ASCII never composes with what precedes it: the pending line is complete
            if tail and not unicodedata.is_normalized("NFC", tail):
                return None
            tail = ""
        else:
            try:
                text = tail + decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _bad_byte(exc, offset, "utf-8") from None
            cut = text.rfind("\n") + 1
            if not unicodedata.is_normalized("NFC", text[:cut]):
                return None
            tail = text[cut:]
        offset += len(chunk)
    try:
        rest = tail + decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _bad_byte(exc, offset, "utf-8") from None
    return shape if unicodedata.is_normalized("NFC", rest) else None


def _decoded(chunks: Iterator[bytes], encoding: str) -> Iterator[str]:
    """Text of ``chunks`` in ``encoding`` (a UTF-16 or UTF-8 BOM wins), line-aligned pieces
    with LF line ends in NFC; a byte that is not valid text rejects the file."""
    decoder: codecs.IncrementalDecoder | None = None
    name = encoding
    offset, pending = 0, ""
    for chunk in chunks:
        if decoder is None:
            name = _encoding_of(chunk, encoding)
            decoder = codecs.getincrementaldecoder(name)()
        try:
            text = pending + decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise _bad_byte(exc, offset, name) from None
        offset += len(chunk)
        cut = max(text.rfind("\n"), text.rfind("\r")) + 1
        if cut and text[cut - 1] == "\r":  # a CR may be the first half of a CRLF
            cut -= 1
        piece, pending = text[:cut], text[cut:]
        if piece:
            yield _normal(piece)
    try:
        pending += decoder.decode(b"", final=True) if decoder else ""
    except UnicodeDecodeError as exc:
        raise _bad_byte(exc, offset, name) from None
    if pending:
        yield _normal(pending)


def _encoding_of(first: bytes, configured: str) -> str:
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if first.startswith(codecs.BOM_UTF8) or codecs.lookup(configured).name == "utf-8":
        return "utf-8-sig"
    return configured


def _normal(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return text


def _bad_byte(exc: UnicodeDecodeError, offset: int, encoding: str) -> FileRejected:
    at = offset + exc.start
    byte = exc.object[exc.start : exc.start + 1].hex()
    return FileRejected("invalid_encoding", f"byte 0x{byte} at offset {at} is not valid {encoding}")


def _write_text(pieces: Iterator[str], path: str) -> _Shape:
    """Write ``pieces`` as UTF-8 to ``path``, and its shape."""
    shape = _Shape()
    with open(path, "wb") as out:
        for piece in pieces:
            data = piece.encode("utf-8")
            shape.feed(data)
            out.write(data)
    return shape


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
