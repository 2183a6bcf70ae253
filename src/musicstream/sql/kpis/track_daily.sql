-- Listening per track and day. A plays row is one listener, so listeners = rows.
with per_track as (
    select
        report_date,
        track_sk,
        sum(listen_count) as listen_count,
        count(user_sk) as unique_listeners,
        sum(listen_ms) as total_listening_ms
    from plays
    group by report_date, track_sk
),

final as (
    select
        songs.track_id,
        per_track.report_date,
        songs.track_name,
        songs.artists,
        songs.genre,
        cast(per_track.listen_count as bigint) as listen_count,
        cast(per_track.unique_listeners as bigint) as unique_listeners,
        cast(per_track.total_listening_ms as bigint) as total_listening_ms,
        cast(per_track.total_listening_ms as double) / per_track.unique_listeners
            as avg_listening_ms_per_user
    from per_track
    inner join keyed_songs as songs on per_track.track_sk = songs.track_sk
)

select * from final
