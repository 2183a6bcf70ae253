-- Plays by weekday and UTC hour over the period: a weekday × hour heatmap. Weekdays are
-- ISO (1 = Monday … 7 = Sunday). Besides the totals, each cell averages its plays over the
-- period's days of that weekday that have data, so a weekday that occurs more often in the
-- period does not look busier. Cells without plays have no row.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with source as (
    select
        cast(report_date as date) as report_day,
        hour,
        listen_count,
        total_listening_ms
    from hourly_activity
    where report_date between :date_from and :date_to
),

weekdays as (
    select
        day_of_week(report_day) as weekday,
        count(distinct report_day) as days_with_data
    from source
    group by day_of_week(report_day)
),

cells as (
    select
        day_of_week(report_day) as weekday,
        hour,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(total_listening_ms) as bigint) as total_listening_ms
    from source
    group by day_of_week(report_day), hour
),

final as (
    select
        c.weekday,
        case c.weekday
            when 1 then 'mon' when 2 then 'tue' when 3 then 'wed' when 4 then 'thu'
            when 5 then 'fri' when 6 then 'sat' else 'sun'
        end as weekday_name,
        c.hour,
        c.listen_count,
        c.total_listening_ms,
        w.days_with_data,
        cast(c.listen_count as double) / w.days_with_data as avg_daily_listen_count
    from cells as c
    inner join weekdays as w on c.weekday = w.weekday
)

select * from final
order by weekday, hour
