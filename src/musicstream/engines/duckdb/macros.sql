-- DuckDB definitions of the parsing functions the shared .sql files call.
-- Integers: digits only (no '1.0', no '1e3'), then cast.
create or replace temp macro ms_int(x) as
    case when regexp_full_match(trim(x), '[+-]?[0-9]{1,18}') then cast(trim(x) as bigint) end;

create or replace temp macro ms_bool(x) as
    case lower(trim(x))
        when 'true' then true when '1' then true
        when 'false' then false when '0' then false
    end;

-- Timestamps need a time part ('YYYY-MM-DD HH:MM…' or with 'T'); an offset or Z is honoured,
-- naive values are UTC (the session time zone is UTC). Result: naive UTC timestamp.
create or replace temp macro ms_ts(x) as
    case when substr(trim(x), 11, 1) in (' ', 'T') and length(trim(x)) >= 16
        then cast(try_cast(trim(x) as timestamptz) as timestamp)
    end;

-- created_at may also be a bare date.
create or replace temp macro ms_date_or_ts(x) as
    case when length(trim(x)) = 10
        then cast(try_cast(trim(x) as date) as timestamp)
        else ms_ts(x)
    end;
