-- Spark definitions of the parsing functions the shared .sql files call: the same results as
-- the DuckDB engine's macros.sql, value for value (tests/engines/spark/test_macros.py compares them
-- on every kind of input). Spark 3.5 has no SQL macros, so each `name(args) := expression;`
-- is inlined where it is called (translate.py). Casts return NULL on bad input (ANSI mode
-- off); the session time zone is UTC. Regexes are Java's.

-- Ids and names: trimmed of spaces and tabs; empty → NULL.
ms_id(x) := nullif(trim(both ' \t' from x), '');

-- Integers: digits only (no '1.0', no '1e3', no '0x10'), then cast. regexp_extract(...) = x
-- is a full match that, unlike `$`, cannot stop before a trailing newline.
ms_int(x) :=
    case when regexp_extract(x, '^ *[+-]?[0-9]{1,18} *', 0) = x then cast(trim(x) as bigint) end;

ms_bool(x) :=
    case lower(trim(x))
        when 'true' then true when '1' then true
        when 'false' then false when '0' then false
    end;

-- Timestamps need a time part (a ':') and a four-digit year (SPEC §2: no sign, no fifth
-- digit), and are NULL outside the years 0001 to 9999. The usual spellings are cast directly,
-- but for the years 0000, 0001 and 9999 (where the value, or an offset, can leave that range);
-- anything else is taken apart with DuckDB's timestamp grammar (_ts_grammar): leading blanks;
-- year, month and day (1-2 digits) with the same separator '-', '/', '\' or ' ' twice; 'T'
-- and/or blanks; H:[M[:[S[.fff]]]] (hour may have extra leading zeros; 24:00 is the next
-- midnight; digits past microseconds are cut). Without an offset DuckDB's plain parse allows
-- 'Z' or ' UTC' after it; with one (a '+', or a '-' after a ':') its time-zone parse wants
-- seconds and a glued offset ±HH[[:]MM[:SS]] of any size (applied here: Spark's stop at 18 h).
-- Zone names are NULL.
ms_ts(x) :=
    case
        when x not like '%:%' then null
        when regexp_extract(x,
            '^(?!0000|0001|9999)[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?((Z|[+-](0[0-9]|1[0-7])(:?[0-5][0-9])?))?|Z)?',
            0) = x
            then cast(x as timestamp)
        when regexp_extract(x, _ts_grammar(), 0) = x then _ts_parts(x)
    end;

-- Groups: 1 year, 2 and 4 the date separators, 3 month, 5 day, 6 hour, 7 minute, 8 second,
-- 9 fraction, 10 offset sign, 11-13 offset hours, minutes, seconds.
_ts_grammar() :=
    '^[ \t\n\r]*([0-9]{4})([-/\\\\ ])([0-9]{1,2})([-/\\\\ ])([0-9]{1,2})(?:T[ \t]*|[ \t]+)0*([0-9]{1,2}):(?:([0-9]{1,2})(?::(?:([0-9]{1,2})(?:[.]([0-9]*))?)?)?)?(?:Z[ \t\n\r]*| [Uu][Tt][Cc][ \t\n\r]*| *|([+-])([0-9]{2})(?::?([0-9]{2})(?::([0-9]{2}))?)?[ \t\n\r]*)$';

-- A value matching _ts_grammar as a timestamp: its groups split once into g[0..12]; NULL
-- outside the years 0001 to 9999 (year 0, or carried past either end by an offset or 24:00).
_ts_parts(x) :=
    element_at(filter(transform(
        array(split(regexp_replace(x, _ts_grammar(), '$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13'), ',', -1)),
        g -> case
            when g[1] <> g[3] then null
            when (x like '%+%' or x like '%:%-%') <> (g[9] <> '') then null
            when g[9] <> '' and g[7] = '' then null
            when g[7] = '' and x like '% ' then null
            else timestampadd(
                second,
                case g[9] when '+' then -1 when '-' then 1 else 0 end * (
                    3600 * coalesce(cast(g[10] as int), 0) + 60 * coalesce(cast(g[11] as int), 0)
                    + coalesce(cast(g[12] as int), 0)
                ) + case when _ts_midnight(g) then 86400 else 0 end,
                cast(concat(
                    g[0], '-', lpad(g[2], 2, '0'),
                    '-', lpad(g[4], 2, '0'), ' ',
                    case when _ts_midnight(g) then '00' else lpad(g[5], 2, '0') end,
                    ':', lpad(coalesce(nullif(g[6], ''), '0'), 2, '0'),
                    ':', lpad(coalesce(nullif(g[7], ''), '0'), 2, '0'),
                    '.', rpad(substr(g[8], 1, 6), 6, '0')
                ) as timestamp)
            )
        end
    ), t -> t between timestamp '0001-01-01' and timestamp '9999-12-31 23:59:59.999999'), 1);

-- 24:00[:00[.000]]: midnight at the end of the day.
_ts_midnight(g) :=
    cast(g[5] as int) = 24 and coalesce(cast(g[6] as int), 0) = 0
    and coalesce(cast(g[7] as int), 0) = 0 and g[8] rlike '^0*$';

-- created_at may also be a bare date: year (4 digits, not 0000), month, day (1-2 digits) with
-- the same separator twice; like DuckDB's date cast, leading blanks and anything after a
-- non-digit that ends the day are ignored. No '(' anywhere (DuckDB reads ' (BC)' after it).
ms_date_or_ts(x) :=
    case
        when x like '%:%' then ms_ts(x)
        when x like '%(%' then null
        when x rlike _date_grammar() then element_at(transform(
            array(split(regexp_replace(x, _date_grammar(), '$1,$2,$3,$4,$5'), ',', -1)),
            d -> case when d[1] = d[3] then cast(make_date(
                cast(d[0] as int), cast(d[2] as int), cast(d[4] as int)
            ) as timestamp) end
        ), 1)
    end;

_date_grammar() :=
    '(?s)^[ \t\n\r]*(?!0000)([0-9]{4})([-/\\\\ ])([0-9]{1,2})([-/\\\\ ])([0-9]{1,2})(?:[^0-9].*)?$';
