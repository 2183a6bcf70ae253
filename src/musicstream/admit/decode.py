"""Decoding: a landing file's bytes as the text engines read, and the shape of that text.

Gzip is inflated (every member), the input encoding decoded (a UTF-16 or UTF-8 BOM wins),
line ends made LF and text NFC; a file already in that form is only checked, not copied.
Whatever makes the file unreadable raises :class:`FileRejected` with its file-level reason
(SPEC §2); admission turns that into the file's quarantine.
"""

from __future__ import annotations

import codecs
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from musicstream.lake import one_line

CHUNK = 8 << 20
# Bytes that make a file take the records layout: quoting, NULs, and the byte the engines
# use as a never-matching delimiter to read whole lines.
_SPECIAL = (b'"', b"\x00", b"\x01")


class FileRejected(Exception):
    """A file-level quarantine: ``reason`` of SPEC §2 and a one-line ``detail``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


class Shape:
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


def read_chunks(opener: Callable[[], BinaryIO], name: str) -> Iterator[bytes]:
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
                chunk = fh.read(CHUNK)
            except OSError as exc:
                raise FileRejected("unreadable_file", one_line(exc)) from None
            if not chunk:
                return
            yield chunk


def file_bytes(path: str, gz: bool) -> Iterator[bytes]:
    """The file's bytes, decompressed when ``gz`` (every member; a damaged one rejected)."""
    chunks = read_chunks(lambda: open(path, "rb"), path)  # noqa: SIM115 - read_chunks closes it
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


def check_direct(path: str, encoding: str) -> Shape | None:
    """The file's shape when engines can read it as it is, else None.

    As it is: UTF-8 (BOM allowed) in NFC with LF line ends — checked on bytes, so ASCII
    chunks cost a few memchr-speed scans; only non-ASCII text is decoded.
    """
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig"):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    shape, offset, tail = Shape(), 0, ""
    for chunk in file_bytes(path, gz=False):
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


def decoded(chunks: Iterator[bytes], encoding: str) -> Iterator[str]:
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


def write_text(pieces: Iterator[str], path: str) -> Shape:
    """Write ``pieces`` as UTF-8 to ``path``, and its shape."""
    shape = Shape()
    with open(path, "wb") as out:
        for piece in pieces:
            data = piece.encode("utf-8")
            shape.feed(data)
            out.write(data)
    return shape
