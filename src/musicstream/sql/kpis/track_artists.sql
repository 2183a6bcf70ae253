-- Each song's credited artists: `artists` split on ';', trimmed, empties dropped, each once;
-- artist_sk sorts like the artist name.
with credits as (
    select
        track_sk,
        trim(unnest(string_split(artists, ';'))) as artist
    from keyed_songs
),

named as (
    select distinct track_sk, artist
    from credits
    where artist <> ''
),

final as (
    select
        track_sk,
        artist,
        dense_rank() over (order by artist) as artist_sk
    from named
)

select * from final
