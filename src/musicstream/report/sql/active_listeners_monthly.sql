-- Active listeners per calendar month, new and returning. New listeners signed up that
-- month; returning = listeners - new. With the month's plays and listening time. Every
-- month that overlaps the period is listed, counted over the whole month; the current
-- month counts its days so far.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with source as (
    select
        period_start,
        period_end,
        listeners,
        new_listeners,
        listen_count,
        total_listening_ms
    from active_listeners
    where
        period = 'month'
        and period_start between cast(
            cast(date_trunc('month', cast(:date_from as date)) as date) as varchar
        ) and :date_to
),

final as (
    select
        cast(period_start as date) as month_start,
        period_end as month_end,
        listeners,
        new_listeners,
        listeners - new_listeners as returning_listeners,
        cast(new_listeners as double) / nullif(listeners, 0) as new_share,
        listen_count,
        total_listening_ms
    from source
)

select * from final
order by month_start
