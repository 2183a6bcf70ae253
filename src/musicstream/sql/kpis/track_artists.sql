-- Each song's credited artists: `artists` split on ';', trimmed, empties dropped, each once.
with credits as (
    select
        track_sk,
        unnest(string_split(artists, ';')) as credit
    from keyed_songs
),

final as (
    select distinct
        track_sk,
        trim(credit) as artist
    from credits
    where trim(credit) <> ''
)

select * from final
