-- Songs by their surrogate key, with what the KPIs take from a song.
with final as (
    select
        track_sk,
        track_id,
        track_name,
        artists,
        track_genre as genre,
        duration_ms
    from curated_songs
)

select * from final
