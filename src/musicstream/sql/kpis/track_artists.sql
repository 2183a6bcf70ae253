-- Each song's credited artists: `artists` split on ';', trimmed, empties dropped, each once.
with credits as (
    select
        track_id,
        trim(unnest(string_split(artists, ';'))) as artist
    from curated_songs
),

final as (
    select distinct track_id, artist
    from credits
    where artist <> ''
)

select * from final
