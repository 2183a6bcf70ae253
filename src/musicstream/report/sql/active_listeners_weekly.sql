-- Active listeners per ISO week (Monday to Sunday), new and returning. New listeners
-- signed up that week; returning = listeners - new. With the week's plays and listening
-- time. Every week that overlaps the period is listed, counted over the whole week; the
-- current week counts its days so far.
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
        period = 'week'
        and period_start between cast(
            cast(date_trunc('week', cast(:date_from as date)) as date) as varchar
        ) and :date_to
),

final as (
    select
        cast(period_start as date) as week_start,
        period_end as week_end,
        listeners,
        new_listeners,
        listeners - new_listeners as returning_listeners,
        cast(new_listeners as double) / nullif(listeners, 0) as new_share,
        listen_count,
        total_listening_ms
    from source
)

select * from final
order by week_start
