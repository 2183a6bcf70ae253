-- Listening per genre and day. A listener_genres row is one listener of the genre that day.
with per_genre as (
    select
        report_date,
        genre,
        sum(listen_count) as listen_count,
        count(user_sk) as unique_listeners,
        sum(listen_ms) as total_listening_ms
    from listener_genres
    group by report_date, genre
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
