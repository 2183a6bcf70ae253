-- Kept stream events of this batch, typed, with their report_date (UTC date of listen_time)
-- and the surrogate keys of their user and song.
with final as (
    select
        t_user_id as user_id,
        t_track_id as track_id,
        t_listen_time as listen_time,
        t_ms_played as ms_played,
        batch_context.batch_id,
        t_user_sk as user_sk,
        t_track_sk as track_sk,
        cast(t_listen_time as date) as report_date
    from checked_streams
    cross join batch_context
    where reasons = ''
)

select * from final
