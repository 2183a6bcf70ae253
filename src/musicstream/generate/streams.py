"""Stream events as CSV lines, optionally with bad rows.

An *events function* maps a SQL ``source`` of row numbers ``i`` to the events
``(i, user_id, track_id, ts_ms, style, off, msp)`` of those rows (``style`` 0 =
``YYYY-MM-DD HH:MM:SS``, 1 = ISO with ``Z``, 2 = ISO with offset ``off`` minutes). ``generate``
reads them from its base events (listening sessions, see ``sessions``) with ``events_sql``;
an increment from its own table. This module turns events into CSV lines, optionally
corrupting rows ``0..nb-1``: which row gets which SPEC reason is a pure function of its
number (macro ``kind0``). ms_played: 3% empty, 52% the full duration, 42% a partial play,
3% a little over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import duckdb

from musicstream.generate.sqlkit import copy_lines, scalar

COLUMNS = ("user_id", "track_id", "listen_time", "ms_played")
KINDS = (
    "missing_user_id",
    "missing_track_id",
    "unknown_user",
    "unknown_track",
    "invalid_listen_time",
    "future_listen_time",
    "invalid_ms_played",
    "duplicate_event",
    "malformed_row",
)
FUTURE_MS = 74 * 365 * 86_400_000  # pushes a 2020s listen_time into ~2099
UNKNOWN_USER_BASE = 900_000_000  # far above any generated user id
DUP_WINDOW = 1000  # a duplicate repeats one of the previous ~1000 events

EventsFor = Callable[[str], str]


def kinds_for(ms_played: bool) -> tuple[str, ...]:
    """The stream bad-row kinds that apply (no ``invalid_ms_played`` without the column)."""
    return KINDS if ms_played else tuple(k for k in KINDS if k != "invalid_ms_played")


def events_sql(where: str, table: str = "stream_base") -> str:
    """``events`` rows of the base events in ``table`` (``sessions.create_base``) matching
    ``where`` (on alias ``b``): ids via ``uid`` and a join to ``song_ids``."""
    return f"""
    select b.i, uid(b.uidx) as user_id, s.track_id, b.ts_ms, b.style, b.off,
      {msp_sql("b", "s.dur")} as msp
    from {table} b join song_ids s on s.tkey = b.tkey where {where}"""


def msp_sql(base: str, dur: str) -> str:
    """ms_played of base event alias ``base`` for a track of duration ``dur``.

    3% empty, 52% a full play, 42% a partial play, 3% a little over the duration.
    """
    return f"""case when {base}.p < 0.03 then null when {base}.p < 0.55 then {dur}
        when {base}.p < 0.97 then floor({dur} * rnd({base}.i, 'q'))::bigint
        else {dur} + rint({base}.i, 'o', 5000) end"""


def range_sql(lo: int, hi: int) -> str:
    """Row numbers ``lo..hi-1`` as an events ``source``."""
    return f"select range as i from range({lo}, {hi})"


def create_bad(
    con: duckdb.DuckDBPyConnection, events: EventsFor, nb: int, rate: float, kinds: Sequence[str]
) -> dict[str, int]:
    """Table ``badr``: which of events 0..nb-1 are bad, how, and (for duplicates) the source.

    About ``rate`` of the rows, kinds drawn uniformly, plus one forced row per kind spread
    evenly so small files still hold every kind. A ``duplicate_event`` copies a clean event
    (the first of three hashed candidates among the previous rows that is clean).
    """
    n_kinds, dup = len(kinds), kinds.index("duplicate_event")
    stride, window = max(1, nb // n_kinds), max(1, min(DUP_WINDOW, nb - 1))
    con.execute(f"""create or replace macro kind0(i) as case
        when i >= {nb} then null
        when i % {stride} = {stride // 2} and i // {stride} < {n_kinds} then i // {stride}
        when rnd(i, 'bad') < {rate} then rint(i, 'kind', {n_kinds}) end""")
    cands = ", ".join(
        f"(i + {nb} - 1 - rint(i, 'j{c}', {window})) % {nb} as j{c}" for c in (1, 2, 3)
    )
    pick_src = " ".join(f"when kind0(j{c}) is null then j{c}" for c in (1, 2, 3))
    con.execute(f"""create or replace table badr as
      with b as (select i, kind0(i) as k, {cands} from range({nb}) r(i) where kind0(i) is not null),
      s as (select i, k, case when k <> {dup} then null {pick_src} end as src from b)
      select s.i, s.k, e.user_id as src_user, e.track_id as src_track, e.ts_ms as src_ts,
        e.style as src_style, e.msp as src_msp
      from s left join ({events("select src as i from s where src is not null")}) e on e.i = s.src
      where s.k <> {dup} or s.src is not null""")
    counts = dict(con.execute("select k, count(*) from badr group by k").fetchall())
    return {name: int(counts.get(code, 0)) for code, name in enumerate(kinds)}


def padded_ids(con: duckdb.DuckDBPyConnection, nb: int, rate: float) -> int:
    """How many clean rows write their user id quoted or space-padded (still valid)."""
    return scalar(con, f"select count(*) from range({nb}) r(i) where {_padded('i', rate)}")


def _padded(i: str, rate: float) -> str:
    return f"(kind0({i}) is null and rnd({i}, 'pad') < {rate / len(KINDS)})"


def write_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    rows: str,
    cols: Sequence[str],
    header: str,
    bad: tuple[Sequence[str], float] | None = None,
    gz: bool = False,
) -> None:
    """Write the events SQL ``rows`` as CSV with columns ``cols`` under ``header``, by ``i``.

    ``bad`` = (kinds, rate) renders the rows listed in ``badr`` in their bad form.
    """
    if bad is None:
        line = " || ',' || ".join(_CLEAN[c] for c in cols)
        ordered = f"select * from ({rows}) order by i"
    else:
        line = _dirty_line(cols, *bad)
        ordered = f"""select r.*, b.* exclude (i) from ({rows}) r
          left join badr b on b.i = r.i order by r.i"""
    # sort the narrow rows, then format: cheaper than sorting the finished lines
    copy_lines(con, f"select {line} as line from ({ordered}) e", header, path, gz)


_EMPTY = "['', ' ', '\"\"'][1 + rint(e.i, 'v', 3)]"  # all three trim to a missing id
_PADDED = "['\"' || e.user_id || '\"', ' ' || e.user_id || ' '][1 + rint(e.i, 'pv', 2)]"
_BAD_TIME = """['not a timestamp', '2026-02-30 12:00:00',
    strftime(epoch_ms(e.ts_ms), '%Y-%m-%d 25:%M:%S'),
    strftime(epoch_ms(e.ts_ms), '%d/%m/%Y %H:%M:%S')][1 + rint(e.i, 'v', 4)]"""
# half the duplicates keep the original's timestamp format, half switch to another one
_DUP_STYLE = """case when rnd(e.i, 'ds') < 0.5 then e.src_style
    else (e.src_style + 1 + rint(e.i, 'dv', 2)) % 3 end"""
_CLEAN = {
    "user_id": "e.user_id",
    "track_id": "e.track_id",
    "listen_time": "fmt_ts(e.ts_ms, e.style, e.off)",
    "ms_played": "coalesce(e.msp::varchar, '')",
}


def _dirty_line(cols: Sequence[str], kinds: Sequence[str], rate: float) -> str:
    """One line per event: bad fields per ``e.k``, whole-line breakage for malformed rows."""
    code = {name: kinds.index(name) if name in kinds else -1 for name in KINDS}
    fields = _dirty_fields(code, rate)
    f = [fields[c] for c in cols]
    join = " || ',' || ".join
    broken = [
        join(f[:2]),
        join(f) + " || ',extra'",
        join([f[0], "'\"' || " + f[1] + " || '\"x'", *f[2:-1]]),
        join([f[0], f[1] + " || '\"x\"y'", *f[2:], "'extra'"]),
    ]
    return f"""case when e.k = {code["malformed_row"]} then
      [{", ".join(broken)}][1 + rint(e.i, 'mv', 4)] else {join(f)} end"""


def _dirty_fields(code: Mapping[str, int], rate: float) -> dict[str, str]:
    """Per column, the SQL of its value: the clean one, or its bad form for kind ``e.k``."""
    dup = code["duplicate_event"]
    return {
        "user_id": f"""case e.k when {code["missing_user_id"]} then {_EMPTY}
          when {code["unknown_user"]} then ({UNKNOWN_USER_BASE} + e.i)::varchar
          when {dup} then e.src_user
          else case when {_padded("e.i", rate)} then {_PADDED} else e.user_id end end""",
        "track_id": f"""case e.k when {code["missing_track_id"]} then {_EMPTY}
          when {code["unknown_track"]} then b62id(e.i, 'unknown')
          when {dup} then e.src_track else e.track_id end""",
        "listen_time": f"""case e.k when {code["invalid_listen_time"]} then {_BAD_TIME}
          when {code["future_listen_time"]} then fmt_ts(e.ts_ms + {FUTURE_MS}, 0, 0)
          when {dup} then fmt_ts(e.src_ts, {_DUP_STYLE}, pick(getvariable('offsets'), e.i, 'doff'))
          else {_CLEAN["listen_time"]} end""",
        "ms_played": f"""case e.k when {code["invalid_ms_played"]} then
            ['-1', '-5000', 'abc', '86400001', '90000000'][1 + rint(e.i, 'v', 5)]
          when {dup} then coalesce(e.src_msp::varchar, '') else {_CLEAN["ms_played"]} end""",
    }
