"""DuckDB session for the generator: seeded hash randomness, formatting macros, raw CSV copy.

All randomness is ``hash(hash(row) xor hash(salt, seed))`` arithmetic (macro ``mix``), so a value
depends only on its row number, the seed and a salt naming the attribute: never on thread count
or evaluation order. (DuckDB's multi-argument ``hash(row, seed, salt)`` combines weakly: values
for two salts correlate at ~0.6; re-hashing gives independent-looking bits, and ``hash(row)`` is
shared by all salts of a row.)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from musicstream.generate import vocab
from musicstream.sqltext import literal

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

_MACROS = """
create macro mix(i, salt) as hash(xor(hash(i), hash(salt, {seed})));
create macro rnd(i, salt) as ((mix(i, salt) >> 11)::double / 9007199254740992.0);
create macro rint(i, salt, n) as (mix(i, salt) % (n)::ubigint)::bigint;
create macro pick(lst, i, salt) as lst[1 + rint(i, salt, len(lst))];
create macro csvq(s) as case when regexp_matches(s, '[",\\n]')
    then '"' || replace(s, '"', '""') || '"' else s end;
create macro b62id(i, salt) as array_to_string(list_transform(range(22), lambda k:
    substr('{b62}', 1 + (hash(xor(hash(i), hash(salt, {seed}, k))) % 62)::bigint, 1)), '');
create macro uid(u) as (1000 + 3 * u + rint(u, 'uid', 3))::varchar;
create macro ts_frac(ms) as case when ms % 1000 = 0 then ''
    else '.' || lpad((ms % 1000)::varchar, 3, '0') end;
create macro fmt_off(off) as (case when off < 0 then '-' else '+' end)
    || lpad((abs(off) // 60)::varchar, 2, '0') || ':' || lpad((abs(off) % 60)::varchar, 2, '0');
create macro ts_text(ms) as epoch_ms(ms - ms % 1000)::varchar;
create macro fmt_ts(ms, style, off) as case style
    when 0 then ts_text(ms) || ts_frac(ms)
    when 1 then replace(ts_text(ms), ' ', 'T') || ts_frac(ms) || 'Z'
    else replace(ts_text(ms + off * 60000), ' ', 'T') || ts_frac(ms) || fmt_off(off) end;
"""


def connect(seed: int, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with the seeded macros and word lists installed."""
    con = duckdb.connect(config={"threads": threads} if threads else {})
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    con.execute(_MACROS.format(seed=int(seed), b62=B62))
    set_lists(con)
    return con


def sql_list(values: Sequence[str | int | float]) -> str:
    """A SQL list literal; strings are single-quoted with quotes doubled."""
    return "[" + ", ".join(literal(v) if isinstance(v, str) else repr(v) for v in values) + "]"


def set_variable(con: duckdb.DuckDBPyConnection, name: str, values: Sequence[str | int]) -> None:
    """Store a list as a session variable, read in SQL with ``getvariable(name)``."""
    con.execute(f"set variable {name} = {sql_list(values)}")


def set_lists(con: duckdb.DuckDBPyConnection) -> None:
    """Install the vocabulary lists (names, words, countries, hours, offsets)."""
    countries = [name for name, _ in vocab.COUNTRY_WEIGHTS]
    set_variable(con, "countries", countries)
    set_variable(con, "country_slots", vocab.weighted_slots([w for _, w in vocab.COUNTRY_WEIGHTS]))
    set_variable(con, "hour_slots", vocab.weighted_slots(vocab.HOUR_WEIGHTS))
    set_variable(con, "weekend_hour_slots", vocab.weighted_slots(vocab.WEEKEND_HOUR_WEIGHTS))
    set_variable(con, "first_names", vocab.FIRST_NAMES)
    set_variable(con, "last_names", vocab.LAST_NAMES)
    set_variable(con, "words", vocab.WORDS)
    set_variable(con, "artist_tails", vocab.ARTIST_TAILS)
    set_variable(con, "offsets", vocab.OFFSETS_MIN)


def copy_lines(
    con: duckdb.DuckDBPyConnection, select_lines: str, header: str, path: Path, gz: bool = False
) -> None:
    """Write the ``line`` column of ``select_lines`` verbatim, one per row, under ``header``.

    Each line is already CSV-encoded by SQL (so malformed lines can be written on purpose);
    DuckDB's writer is told not to quote anything, and the header is the column's alias.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    alias = header.replace('"', '""')
    options = "format csv, header true, quote '', escape '', delimiter '\t'"
    if gz:
        options += ", compression gzip"
    con.execute(
        f'copy (select line as "{alias}" from ({select_lines})) to {literal(path)} ({options})'
    )


def bad_count(rows: int, dirty: float, kinds: int) -> int:
    """Bad rows to inject: about ``dirty`` of ``rows``, at least one per kind, at most half."""
    if dirty <= 0:
        return 0
    return min(rows // 2, max(kinds, round(rows * dirty)))


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single integer ``sql`` returns (0 when it returns nothing)."""
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0
