-- DAU/MAU stickiness per day, and its average over the period's days. DAU = the day's
-- distinct listeners, MAU = the distinct listeners of that day's calendar month (the
-- whole month, even when the period covers part of it; the current month: its days so far).
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with days as (
    select
        cast(period_start as date) as report_date,
        listeners as dau
    from active_listeners
    where period = 'day' and period_start between :date_from and :date_to
),

months as (
    select
        cast(period_start as date) as month_start,
        listeners as mau
    from active_listeners
    where
        period = 'month'
        and period_start between cast(
            cast(date_trunc('month', cast(:date_from as date)) as date) as varchar
        ) and :date_to
),

daily as (
    select
        d.report_date,
        d.dau,
        m.mau,
        cast(d.dau as double) / nullif(m.mau, 0) as stickiness
    from days as d
    left join months as m
        on cast(date_trunc('month', d.report_date) as date) = m.month_start
),

final as (
    select
        report_date,
        dau,
        mau,
        stickiness,
        avg(stickiness) over () as avg_stickiness
    from daily
)

select * from final
order by report_date
