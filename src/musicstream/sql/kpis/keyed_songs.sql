-- Songs with an integer surrogate key that sorts like track_id, so the KPI queries group
-- and join on integers and can still break ranking ties on the key.
with final as (
    select
        track_id,
        track_name,
        artists,
        track_genre as genre,
        duration_ms,
        row_number() over (order by track_id) as track_sk
    from curated_songs
)

select * from final
