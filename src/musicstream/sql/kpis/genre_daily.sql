-- Listening per genre and day.
with per_genre as (
    select
        plays.report_date,
        songs.genre,
        sum(plays.listen_count) as listen_count,
        count(distinct plays.user_sk) as unique_listeners,
        sum(plays.listen_ms) as total_listening_ms
    from plays
    inner join keyed_songs as songs on plays.track_sk = songs.track_sk
    group by plays.report_date, songs.genre
),

final as (
    select
        report_date,
        genre,
        cast(listen_count as bigint) as listen_count,
        cast(unique_listeners as bigint) as unique_listeners,
        cast(total_listening_ms as bigint) as total_listening_ms,
        cast(total_listening_ms as double) / listen_count as avg_listening_ms_per_stream,
        cast(total_listening_ms as double) / unique_listeners as avg_listening_ms_per_user
    from per_genre
)

select * from final
