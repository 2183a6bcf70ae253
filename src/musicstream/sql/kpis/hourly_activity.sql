-- Listening per UTC hour of each day; hours without streams have no row. A listener's
-- streams of an hour are grouped first, so listeners are counted as rows.
with listener_hours as (
    select
        streams.report_date,
        hour(streams.listen_time) as hour,
        streams.user_sk,
        count(*) as listen_count,
        sum(coalesce(streams.ms_played, songs.duration_ms)) as listen_ms
    from date_streams as streams
    inner join keyed_songs as songs on streams.track_sk = songs.track_sk
    group by streams.report_date, hour(streams.listen_time), streams.user_sk
),

final as (
    select
        report_date,
        cast(hour as integer) as hour,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(count(user_sk) as bigint) as unique_listeners,
        cast(sum(listen_ms) as bigint) as total_listening_ms
    from listener_hours
    group by report_date, hour
)

select * from final
