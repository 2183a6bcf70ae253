-- The dates' rows of kpis/_day_listeners/ (datasets.DAY_LISTENERS), for the periods that
-- later take these dates as they stand (active_listeners): each listener's day
-- (listener_days: streams and listening ms), and per track the streams that gave no
-- ms_played with the ms listener_days counted them at, the song's duration now.
with unplayed as (
    select
        report_date,
        track_sk,
        count(*) as listen_count
    from date_streams
    where ms_played is null
    group by report_date, track_sk
),

final as (
    select
        report_date,
        user_sk,
        cast(null as bigint) as track_sk,
        cast(listen_count as bigint) as listen_count,
        cast(listen_ms as bigint) as listen_ms
    from listener_days

    union all

    select
        unplayed.report_date,
        cast(null as bigint) as user_sk,
        unplayed.track_sk,
        cast(unplayed.listen_count as bigint) as listen_count,
        cast(unplayed.listen_count * songs.duration_ms as bigint) as listen_ms
    from unplayed
    inner join keyed_songs as songs on unplayed.track_sk = songs.track_sk
)

select * from final
