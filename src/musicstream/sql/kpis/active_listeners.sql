-- Distinct listeners per day, ISO week and month, and the new ones among them (created_at,
-- as a UTC date, inside the period; no created_at: never new). Each period is computed from
-- every curated stream of its dates (period_days lists them), never added up from days'
-- counts. A listener's day: for the dates being computed, their user_daily row (from the
-- same streams and dimensions); for the period's other dates, from their curated streams
-- (period_streams holds only those).
with listener_days as (
    select
        report_date,
        user_id,
        listen_count,
        total_listening_ms as listen_ms
    from user_daily

    union all

    select
        streams.report_date,
        streams.user_id,
        count(*) as listen_count,
        sum(coalesce(streams.ms_played, songs.duration_ms)) as listen_ms
    from period_streams as streams
    inner join keyed_songs as songs on streams.track_id = songs.track_id
    group by streams.report_date, streams.user_id
),

per_listener as (
    select
        days.period,
        days.period_start,
        days.period_end,
        listener_days.user_id,
        sum(listener_days.listen_count) as listen_count,
        sum(listener_days.listen_ms) as listen_ms
    from listener_days
    inner join period_days as days on listener_days.report_date = days.report_date
    group by days.period, days.period_start, days.period_end, listener_days.user_id
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
    left join curated_users as users on per_listener.user_id = users.user_id
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
