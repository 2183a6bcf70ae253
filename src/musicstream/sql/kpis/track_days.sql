-- Each track's day: streams, listeners (a plays row is one listener) and listening ms.
-- track_daily names its rows, top_artists_daily adds them up per credited artist.
with final as (
    select
        report_date,
        track_sk,
        sum(listen_count) as listen_count,
        count(user_sk) as unique_listeners,
        sum(listen_ms) as listen_ms
    from plays
    group by report_date, track_sk
)

select * from final
