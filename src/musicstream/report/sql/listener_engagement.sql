-- Listener engagement per day: listeners, plays and listening time per listener.
-- Every listener has exactly one country (SPEC §3: country comes from the user), so the
-- sum of country_daily's unique_listeners over countries counts each listener once.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with source as (
    select
        report_date,
        listen_count,
        unique_listeners,
        total_listening_ms
    from country_daily
    where report_date between :date_from and :date_to
),

daily as (
    select
        report_date,
        cast(sum(unique_listeners) as bigint) as listeners,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(total_listening_ms) as bigint) as total_listening_ms
    from source
    group by report_date
),

final as (
    select
        cast(report_date as date) as report_date,
        listeners,
        listen_count,
        total_listening_ms,
        cast(total_listening_ms as double) / nullif(listeners, 0) as avg_listening_ms_per_user,
        cast(listen_count as double) / nullif(listeners, 0) as streams_per_user
    from daily
)

select * from final
order by report_date
