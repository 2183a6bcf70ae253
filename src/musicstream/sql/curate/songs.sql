-- New songs snapshot: this batch's clean rows replace earlier rows of the same track_id
-- (upsert); within a batch a later file wins over an earlier one. A row keeps its surrogate
-- key; a new track_id takes its number from new_keys_songs.
with batch as (
    select
        t_track_id as track_id,
        track_name,
        album_name,
        artists,
        t_track_genre as track_genre,
        t_duration_ms as duration_ms,
        cast(t_popularity as integer) as popularity,
        t_explicit as explicit,
        row_number() over (partition by t_track_id order by _file_idx desc) as newest
    from checked_songs
    where reasons = ''
),

kept as (
    select * from curated_songs as curated
    where not exists (select 1 from batch where batch.track_id = curated.track_id)
),

final as (
    select * from kept
    union all
    select
        batch.track_id, batch.track_name, batch.album_name, batch.artists, batch.track_genre,
        batch.duration_ms, batch.popularity, batch.explicit,
        coalesce(curated.track_sk, numbered.track_sk) as track_sk
    from batch
    left join curated_songs as curated on batch.track_id = curated.track_id
    left join new_keys_songs as numbered on batch.track_id = numbered.track_id
    where batch.newest = 1
)

select * from final
