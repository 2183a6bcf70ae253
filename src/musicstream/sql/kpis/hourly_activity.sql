-- Listening per UTC hour of each day; hours without streams have no row.
with per_hour as (
    select
        streams.report_date,
        hour(streams.listen_time) as hour,
        count(*) as listen_count,
        count(distinct streams.user_id) as unique_listeners,
        sum(coalesce(streams.ms_played, songs.duration_ms)) as total_listening_ms
    from date_streams as streams
    inner join keyed_songs as songs on streams.track_id = songs.track_id
    group by streams.report_date, hour(streams.listen_time)
),

final as (
    select
        report_date,
        cast(hour as integer) as hour,
        cast(listen_count as bigint) as listen_count,
        cast(unique_listeners as bigint) as unique_listeners,
        cast(total_listening_ms as bigint) as total_listening_ms
    from per_hour
)

select * from final
