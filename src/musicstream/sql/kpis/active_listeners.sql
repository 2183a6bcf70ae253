-- Distinct listeners per day, ISO week and month, and the new ones among them (created_at,
-- as a UTC date, inside the period; no created_at: never new). Each period is computed from
-- every curated stream of its dates (period_days lists them), never added up from days'
-- counts. A listener's day: for the dates being computed, their listener_days row (from the
-- same streams and dimensions); for the period's other dates, from their curated streams
-- (period_streams holds only those).
with listener_dates as (
    select
        report_date,
        user_sk,
        listen_count,
        listen_ms
    from listener_days

    union all

    select
        streams.report_date,
        streams.user_sk,
        count(*) as listen_count,
        sum(coalesce(streams.ms_played, songs.duration_ms)) as listen_ms
    from period_streams as streams
    inner join keyed_songs as songs on streams.track_sk = songs.track_sk
    group by streams.report_date, streams.user_sk
),

per_listener as (
    select
        days.period,
        days.period_start,
        days.period_end,
        listener_dates.user_sk,
        sum(listener_dates.listen_count) as listen_count,
        sum(listener_dates.listen_ms) as listen_ms
    from listener_dates
    inner join period_days as days on listener_dates.report_date = days.report_date
    group by days.period, days.period_start, days.period_end, listener_dates.user_sk
),

flagged as (
    select
        per_listener.*,
        coalesce(
            cast(users.created_at as date)
            between per_listener.period_start and per_listener.period_end,
            false
        ) as is_new
    from per_listener
    left join curated_users as users on per_listener.user_sk = users.user_sk
),

final as (
    select
        period,
        period_start,
        period_end,
        cast(count(*) as bigint) as listeners,
        cast(count_if(is_new) as bigint) as new_listeners,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(listen_ms) as bigint) as total_listening_ms
    from flagged
    group by period, period_start, period_end
)

select * from final
