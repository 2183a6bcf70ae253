-- Plays, listening time and listeners per genre and ISO week (weeks start on Monday).
-- Listeners do not add up across days (one person listens on several), so a week reports
-- the average and the peak of its daily listener counts; the average divides by the days
-- of that week that have data, so a genre's silent days count as zero.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with source as (
    select
        cast(date_trunc('week', cast(report_date as date)) as date) as week_start,
        report_date,
        genre,
        listen_count,
        unique_listeners,
        total_listening_ms
    from genre_daily
    where report_date between :date_from and :date_to
),

week_days as (
    select
        week_start,
        count(distinct report_date) as days_with_data
    from source
    group by week_start
),

weekly as (
    select
        week_start,
        genre,
        count(*) as active_days,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(total_listening_ms) as bigint) as total_listening_ms,
        cast(sum(unique_listeners) as bigint) as listener_days,
        max(unique_listeners) as peak_daily_listeners
    from source
    group by week_start, genre
),

final as (
    select
        w.week_start,
        w.genre,
        w.active_days,
        w.listen_count,
        w.total_listening_ms,
        cast(w.listener_days as double) / d.days_with_data as avg_daily_listeners,
        w.peak_daily_listeners
    from weekly as w
    inner join week_days as d on w.week_start = d.week_start
)

select * from final
order by week_start, listen_count desc, genre
