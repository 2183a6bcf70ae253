-- Each song's credited artists: `artists` split on ';', trimmed, empties dropped, each once;
-- artist_sk sorts like the artist name.
with credits as (
    select
        track_sk,
        unnest(string_split(artists, ';')) as credit
    from keyed_songs
),

named as (
    select distinct track_sk, trim(credit) as artist
    from credits
    where trim(credit) <> ''
),

final as (
    select
        track_sk,
        artist,
        dense_rank() over (order by artist) as artist_sk
    from named
)

select * from final
