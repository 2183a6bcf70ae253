-- Plays, listening time and listeners per country over the period. Listeners do not add
-- up across days, so the period reports the average daily listeners (over the days that
-- have data, a country's silent days counting as zero) and the peak day.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with source as (
    select
        report_date,
        country,
        listen_count,
        unique_listeners,
        total_listening_ms
    from country_daily
    where report_date between :date_from and :date_to
),

period as (
    select count(distinct report_date) as days_with_data
    from source
),

totals as (
    select
        country,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(total_listening_ms) as bigint) as total_listening_ms,
        cast(sum(unique_listeners) as bigint) as listener_days,
        max(unique_listeners) as peak_daily_listeners
    from source
    group by country
),

final as (
    select
        t.country,
        t.listen_count,
        t.total_listening_ms,
        cast(t.listener_days as double) / p.days_with_data as avg_daily_listeners,
        t.peak_daily_listeners,
        cast(t.listen_count as double) / nullif(sum(t.listen_count) over (), 0) as play_share
    from totals as t
    cross join period as p
)

select * from final
order by listen_count desc, country
