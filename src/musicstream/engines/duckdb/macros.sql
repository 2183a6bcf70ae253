-- DuckDB definitions of the parsing functions the shared .sql files call. They run on every
-- row, so each avoids copying strings where it can (measured: trim() alone doubled the cost).

-- Ids and names: trimmed; empty → NULL.
create or replace temp macro ms_id(x) as
    case when x like ' %' or x like '% ' then nullif(trim(x), '') else nullif(x, '') end;

-- Integers: digits only (no '1.0', no '1e3', no '0x10'), then cast.
create or replace temp macro ms_int(x) as
    case when regexp_full_match(x, ' *[+-]?[0-9]{1,18} *') then try_cast(x as bigint) end;

create or replace temp macro ms_bool(x) as
    case lower(trim(x))
        when 'true' then true when '1' then true
        when 'false' then false when '0' then false
    end;

-- Timestamps need a time part; an offset or Z is honoured, naive values are UTC (the session
-- time zone is UTC). Result: naive UTC timestamp. Only values with an offset take the slower
-- time-zone-aware parse.
create or replace temp macro ms_ts(x) as
    case when contains(x, ':') then
        case when contains(x, '+') or x like '%:%-%'
            then cast(try_cast(x as timestamptz) as timestamp)
            else try_cast(x as timestamp)
        end
    end;

-- created_at may also be a bare date.
create or replace temp macro ms_date_or_ts(x) as
    case when contains(x, ':') then ms_ts(x) else cast(try_cast(x as date) as timestamp) end;
