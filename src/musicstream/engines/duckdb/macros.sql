-- DuckDB definitions of the parsing functions the shared .sql files call. They run on every
-- row, so each avoids copying strings where it can (measured: trim() alone doubled the cost):
-- cheap prefix and suffix tests pick the few values that take the slow path.

-- Ids and names: trimmed of spaces and tabs; empty → NULL. `x < '!'`: starts with a blank
-- (or another control character, which trim leaves alone).
create or replace temp macro ms_id(x) as
    case when x < '!' or x like '% ' or x like e'%\t'
        then nullif(trim(x, e' \t'), '') else nullif(x, '') end;

-- Integers: digits only (no '1.0', no '1e3', no '0x10'), then cast.
create or replace temp macro ms_int(x) as
    case when regexp_full_match(x, ' *[+-]?[0-9]{1,18} *') then try_cast(x as bigint) end;

create or replace temp macro ms_bool(x) as
    case lower(trim(x))
        when 'true' then true when '1' then true
        when 'false' then false when '0' then false
    end;

-- A four-digit year, 0001 to 9999, after leading blanks. Fast path: a digit first, the first
-- '-' fifth (a '-' before it would end a shorter year), and not 0000.
create or replace temp macro _ms_year4(x) as
    strpos(x, '-') = 5 and x >= '0001' and x < ':'
    or regexp_matches(x, '^[ \t\n\r]*(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})[^0-9]');

-- What may follow the time, as DuckDB 1.x's casts checked it: no offset, Z or zone right after
-- HH:MM (no seconds), and no word but UTC after a blank (an offset with '+' or ':…-' goes to
-- the zone-aware cast). DuckDB 2's TIMESTAMP cast ignores a word after the time ('… 12:00:00
-- CET' or '… garbage' read as UTC) and its TIMESTAMPTZ cast reads '12:34+56' as 56 hours east.
-- Fast path: seconds in place ('YYYY-MM-DD HH:MM:SS') and no blank after them.
create or replace temp macro _ms_tail_ok(x) as
    x[14] = ':' and x[17] = ':' and not contains(substr(x, 18), ' ')
        and not contains(substr(x, 18), e'\t')
    or not regexp_matches(x, '[ \tT][0-9]+:[0-9]+([ \t]*[^0-9:. \t\n\r]|[ \t]+$)')
    and (contains(x, '+') or x like '%:%-%' or not regexp_matches(x, '[ \t][A-Za-z]')
        or regexp_matches(x, '[0-9]:[0-9]+:[0-9]+(\.[0-9]*)?[ \t]+(?i:utc)[ \t]*$'));

-- Only the slower time-zone-aware parse for values with an offset.
create or replace temp macro _ms_parse_ts(x) as
    case when contains(x, '+') or x like '%:%-%'
        then cast(try_cast(x as timestamptz) as timestamp)
        else try_cast(x as timestamp)
    end;

-- NULL outside the years 0001 to 9999 (a report_date partition is a plain date). Only a value
-- of the year 0001 or 9999 (or after blanks) can get there, by an offset or 24:00: ms_ts checks
-- those alone, as `t` is parsed again for each use where a filter, not a projection, calls it.
create or replace temp macro _ms_ad(t) as
    case when t between timestamp '0001-01-01' and timestamp '9999-12-31 23:59:59.999999' then t end;

-- Timestamps (SPEC §2) need a time part and a year of four digits, 0001 to 9999: DuckDB
-- itself reads a sign ('-2024' is a BC year), any number of digits, and a ' (BC)' after the
-- date, so no '(' is let through either. An offset or Z is honoured, naive values are UTC
-- (the session time zone is UTC). Result: naive UTC timestamp.
create or replace temp macro ms_ts(x) as
    case when contains(x, ':') and _ms_year4(x) and not contains(x, '(') and _ms_tail_ok(x) then
        case when x >= '0002' and x < '9999' then _ms_parse_ts(x) else _ms_ad(_ms_parse_ts(x)) end
    end;

-- created_at may also be a bare date.
create or replace temp macro ms_date_or_ts(x) as
    case
        when contains(x, ':') then ms_ts(x)
        -- the date alone: DuckDB 2 no longer reads '2026-01-05x' or '2026-01-05 10' as a date
        when _ms_year4(x) and not contains(x, '(') then cast(try_cast(
            regexp_extract(x, '^[ \t\n\r]*[0-9]+[-/ ][0-9]+[-/ ][0-9]+') as date) as timestamp)
    end;
