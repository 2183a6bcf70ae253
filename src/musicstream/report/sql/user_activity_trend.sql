-- One listener's daily plays and listening time over the period. Also distinct tracks, the
-- genre they played most that day and running totals since the period began. Every day of
-- the period that has data gets a row, a day the listener was silent with zeros (and no top
-- genre), so the series shows the gaps. Without a user id: every listener's series, one
-- after another (large on a real lake: listeners × days).
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive), :user_id (unset: every listener)
with source as (
    select
        report_date,
        user_id,
        listen_count,
        unique_tracks,
        total_listening_ms,
        top_genre
    from user_daily
    where
        report_date between :date_from and :date_to
        and user_id = coalesce(:user_id, user_id)
),

days as (
    select distinct report_date
    from user_daily
    where report_date between :date_from and :date_to
),

listeners as (
    select distinct user_id
    from source
),

series as (
    select
        l.user_id,
        d.report_date,
        coalesce(s.listen_count, 0) as listen_count,
        coalesce(s.unique_tracks, 0) as unique_tracks,
        coalesce(s.total_listening_ms, 0) as total_listening_ms,
        s.top_genre
    from listeners as l
    cross join days as d
    left join source as s on l.user_id = s.user_id and d.report_date = s.report_date
),

final as (
    select
        user_id,
        cast(report_date as date) as report_date,
        listen_count,
        unique_tracks,
        total_listening_ms,
        top_genre,
        cast(sum(listen_count) over (
            partition by user_id order by report_date
            rows between unbounded preceding and current row
        ) as bigint) as cumulative_listen_count,
        cast(sum(total_listening_ms) over (
            partition by user_id order by report_date
            rows between unbounded preceding and current row
        ) as bigint) as cumulative_listening_ms
    from series
)

select * from final
order by user_id, report_date
