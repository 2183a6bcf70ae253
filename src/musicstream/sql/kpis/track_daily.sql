-- Listening per track and day: track_days named.
with final as (
    select
        songs.track_id,
        days.report_date,
        songs.track_name,
        songs.artists,
        songs.genre,
        cast(days.listen_count as bigint) as listen_count,
        cast(days.unique_listeners as bigint) as unique_listeners,
        cast(days.listen_ms as bigint) as total_listening_ms,
        cast(days.listen_ms as double) / days.unique_listeners
            as avg_listening_ms_per_user
    from track_days as days
    inner join keyed_songs as songs on days.track_sk = songs.track_sk
)

select * from final
