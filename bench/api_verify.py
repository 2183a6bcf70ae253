"""Torn reads: answers that are neither the store's answer before the run nor after it.

Every date is replaced in one transaction, so an answer about one date (patterns 1, 3, 4,
6, 7, 9) and a song or user (11, 12) must be byte for byte the answer the store gives before
the concurrent run or the one it gives after it. A 30-day range may legitimately see some of
its dates reloaded and others not yet, so there each row (one date) must be that date's row
in one of the two versions. bench/api.lua keeps a CRC-32 of each answer (each range row) per
path; here the same CRC-32s are taken of the server's answers to every path of the mix,
asked one at a time just before the load starts and again once the run has ended.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
import zlib
from collections.abc import Iterable

from bench.api_load import ClassLoad

_ROWS = re.compile(rb'"rows":\[(.*)\]}$', re.S)
_ROW = re.compile(rb"\{[^{}]*\}")
_DAY = re.compile(rb'"(?:report_date|period_start)":"([^"]+)"')
SAMPLES = 5


def answers(url: str, paths: Iterable[str]) -> dict[str, str]:
    """Answer key → CRC-32 of what the server at ``url`` answers now (see bench/api.lua),
    one request at a time over one connection."""
    where = urllib.parse.urlsplit(url)
    con = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=60)
    out: dict[str, str] = {}
    try:
        for path in sorted(set(paths)):
            con.request("GET", path)
            out.update(fingerprints(path, con.getresponse().read()))
    finally:
        con.close()
    return out


def fingerprints(path: str, body: bytes) -> dict[str, str]:
    """As bench/api.lua keys them: the whole answer, or each row of a range by its date."""
    if "from=" not in path:
        return {path: str(zlib.crc32(body))}
    rows = _ROWS.search(body)
    out = {}
    for row in _ROW.findall(rows.group(1) if rows else b""):
        day = _DAY.search(row)
        out[f"{path}|{day.group(1).decode() if day else '?'}"] = str(zlib.crc32(row))
    return out


def asked(load: ClassLoad) -> set[str]:
    """The paths a class's answers were seen for."""
    return {key.split("|", 1)[0] for key in load.seen}


def count_torn(load: ClassLoad, *versions: dict[str, str]) -> None:
    """Set ``load.torn``: answers seen that match none of ``versions`` (for their key)."""
    load.torn, load.torn_samples = 0, []
    for key, crcs in load.seen.items():
        allowed = {v[key] for v in versions if key in v}
        for crc, times in crcs.items():
            if crc not in allowed:
                load.torn += times
                if len(load.torn_samples) < SAMPLES:
                    load.torn_samples.append(key)
