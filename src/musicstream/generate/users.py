"""users.csv: lab-style integer ids, skewed ages and countries, signups around the window.

Half the users sign up in the window (or up to 3 days after), most others up to 3 years
before it, and 3% have no created_at, so every day, week and month has some new listeners.

User ``u`` (0-based) always gets id ``uid(u)``, so streams can reference users by number
without a lookup. Bad rows are extra users no stream references, so quarantining them never
turns a good stream into an ``unknown_user``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from musicstream.generate.sqlkit import bad_count, copy_lines, scalar

HEADER = "user_id,user_name,user_age,user_country,created_at"
KINDS = (
    "missing_user_id",
    "duplicate_user_id",
    "invalid_age",
    "invalid_created_at",
    "malformed_row",
)
SIGNUP_IN_WINDOW = 0.5  # share of users who sign up during (or after) the listening window
NO_SIGNUP = 0.03  # share of users with an empty created_at (never a new listener)


@dataclass(frozen=True)
class UsersResult:
    """What ``write_users`` wrote: file, clean user count, injected rows by reason, empties."""

    path: Path
    clean_rows: int
    injected: dict[str, int]
    empty_country: int


def user_fields(u: str, start_ms: int, days: int) -> str:
    """Select-list of the user columns (plain values) for user number expression ``u``."""
    return f"""uid({u}) as user_id,
      pick(getvariable('first_names'), {u}, 'fn') || ' '
        || pick(getvariable('last_names'), {u}, 'ln') as user_name,
      case when rnd({u}, 'old') < 0.01 then 80 + rint({u}, 'age2', 21)
        else 13 + floor(67 * pow(rnd({u}, 'age'), 1.6))::bigint end::varchar as user_age,
      getvariable('countries')[1 + getvariable('country_slots')[1 + rint({u}, 'c', 1000)]]
        as user_country,
      {_created_at(u, start_ms, days)} as created_at"""


def _created_at(u: str, start_ms: int, days: int) -> str:
    """created_at: half during the window or up to 3 days after (uniform), the rest up to
    3 years before; ``NO_SIGNUP`` of the users leave it empty. Activity is independent of it,
    so new users listen before signing up too (SPEC's ``listen_before_signup`` warning)."""
    ms = f"""case when rnd({u}, 'new') < {SIGNUP_IN_WINDOW}
        then {start_ms} + rint({u}, 'late', {(days + 3) * 86400}) * 1000
        else {start_ms} - (1 + rint({u}, 'early', {1095 * 86400})) * 1000 end"""
    return f"""case when rnd({u}, 'nosignup') < {NO_SIGNUP} then ''
        when rnd({u}, 'cf') < 0.3 then strftime(epoch_ms({ms}), '%Y-%m-%d')
        when rnd({u}, 'cf') < 0.4 then strftime(epoch_ms({ms}), '%Y-%m-%dT%H:%M:%SZ')
        else strftime(epoch_ms({ms}), '%Y-%m-%d %H:%M:%S') end"""


def user_line(kind: str = "null", variant: str = "0") -> str:
    """SQL for one CSV line from the ``user_fields`` columns, bad in the way ``kind`` says."""
    k = {name: code for code, name in enumerate(KINDS)}
    fields = [
        f"case when {kind} = {k['missing_user_id']} then ['', ' ', '\"\"'][1 + {variant} % 3]"
        " else user_id end",
        "user_name",
        f"case when {kind} = {k['invalid_age']} then ['7', '121', '-1', 'twenty', '12', '150']"
        f"[1 + {variant} % 6] else user_age end",
        "user_country",
        f"case when {kind} = {k['invalid_created_at']} then ['not a date', '2025-02-30',"
        f" '2025-13-01 10:00:00', '31/12/2024', 'yesterday'][1 + {variant} % 5]"
        " else created_at end",
    ]
    good = " || ',' || ".join(fields)
    stray = " || ',' || ".join([fields[0], "'\"' || user_name || '\"x'", fields[2], fields[3]])
    inner = " || ',' || ".join([fields[0], "replace(user_name, ' ', '\"x\"')", fields[2]])
    broken = f"[{fields[0]} || ',' || user_name, {good} || ',extra', {stray}, {inner}]"
    return (
        f"case when {kind} = {k['malformed_row']} then {broken}[1 + {variant} % 4] else {good} end"
    )


def write_users(
    con: duckdb.DuckDBPyConnection, path: Path, rows: int, start_ms: int, days: int, dirty: float
) -> UsersResult:
    """Write ``rows`` user rows to ``path``: users ``0..clean_rows-1`` plus bad extras.

    Bad rows are spread through the file; a ``duplicate_user_id`` repeats an earlier user's id.
    With ``dirty`` > 0 about ``dirty / 5`` of the clean users also get an empty country
    (valid: the KPIs show them as ``Unknown``).
    """
    n_bad = bad_count(rows, dirty, len(KINDS))
    n_clean = rows - n_bad
    con.execute(
        f"create or replace table user_rows as {_rows_sql(n_clean, n_bad, start_ms, days, dirty)}"
    )
    copy_lines(
        con,
        f"select {user_line('kind', 'variant')} as line from user_rows order by pos, u",
        HEADER,
        path,
    )
    injected = {name: len(range(code, n_bad, len(KINDS))) for code, name in enumerate(KINDS)}
    empties = scalar(con, "select count(*) from user_rows where kind is null and user_country = ''")
    return UsersResult(path, n_clean, injected, empties)


def _rows_sql(n_clean: int, n_bad: int, start_ms: int, days: int, dirty: float) -> str:
    """All user rows (clean + bad) with their position in the file, kind and fields."""
    dup = KINDS.index("duplicate_user_id")
    empty = f"({dirty} > 0 and (rnd(u, 'noc') < {dirty / 5} or u = {n_clean // 2}))"
    return f"""
      with clean as (
        select (i + 0.5) / {n_clean} as pos, i as u, null::bigint as kind, 0::bigint as variant,
          i as ref from range({n_clean}) r(i)
      ), bad as (
        select (k + 0.37) / {max(1, n_bad)} as pos, {n_clean} + k as u, k % {len(KINDS)} as kind,
          k // {len(KINDS)} as variant,
          rint(k, 'ref', greatest(1, floor((k + 0.37) / {max(1, n_bad)} * {n_clean}))) as ref
        from range({n_bad}) r(k)
      ), fields as (
        select pos, u, kind, variant, ref, {user_fields("u", start_ms, days)}
        from (select * from clean union all select * from bad)
      )
      select * replace (
        case when kind = {dup} then uid(ref) else user_id end as user_id,
        case when kind is null and {empty} then '' else user_country end as user_country)
      from fields"""
