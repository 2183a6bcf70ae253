-- New songs snapshot: this batch's clean rows replace earlier rows of the same track_id
-- (upsert); within a batch a later file wins over an earlier one.
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
        track_id, track_name, album_name, artists, track_genre, duration_ms, popularity, explicit
    from batch
    where newest = 1
)

select * from final
