-- Distinct listeners per day, ISO week and month, and the new ones among them (created_at,
-- as a UTC date, inside the period; no created_at: never new). Each period is computed from
-- every curated stream of its dates (period_days lists them), never added up from days'
-- counts. A listener's day: for the dates being computed, their listener_days row (from the
-- same streams and dimensions); for the period's other dates, their stored listener day
-- (kpis/_day_listeners/, in stored_day_listeners), or, for a date without those, its
-- curated streams (period_streams holds only such dates).
with listener_dates as (
    select
        report_date,
        user_sk,
        listen_count,
        listen_ms
    from listener_days

    union all

    select
        report_date,
        user_sk,
        listen_count,
        listen_ms
    from stored_day_listeners
    where user_sk is not null

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

-- A stored day counted its streams without ms_played at their song's duration then; the
-- period takes the duration as it stands now.
restated as (
    select
        days.period,
        days.period_start,
        sum(stored.listen_count * songs.duration_ms - stored.listen_ms) as listen_ms
    from stored_day_listeners as stored
    inner join keyed_songs as songs on stored.track_sk = songs.track_sk
    inner join period_days as days on stored.report_date = days.report_date
    group by days.period, days.period_start
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

periods as (
    select
        period,
        period_start,
        period_end,
        count(*) as listeners,
        count_if(is_new) as new_listeners,
        sum(listen_count) as listen_count,
        sum(listen_ms) as listen_ms
    from flagged
    group by period, period_start, period_end
),

final as (
    select
        periods.period,
        periods.period_start,
        periods.period_end,
        cast(periods.listeners as bigint) as listeners,
        cast(periods.new_listeners as bigint) as new_listeners,
        cast(periods.listen_count as bigint) as listen_count,
        cast(
            periods.listen_ms + coalesce(restated.listen_ms, 0) as bigint
        ) as total_listening_ms
    from periods
    left join restated
        on periods.period = restated.period
        and periods.period_start = restated.period_start
)

select * from final
