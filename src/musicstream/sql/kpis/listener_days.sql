-- Each listener's day: streams, distinct tracks (a plays row is one track) and listening ms.
-- user_daily and country_daily count listeners as rows of this, not by distinct counts.
with final as (
    select
        report_date,
        user_sk,
        sum(listen_count) as listen_count,
        count(*) as unique_tracks,
        sum(listen_ms) as listen_ms
    from plays
    group by report_date, user_sk
)

select * from final
