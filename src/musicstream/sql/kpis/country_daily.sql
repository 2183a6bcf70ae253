-- Listening per listener country and day (empty country counts as 'Unknown'). A
-- listener_days row is one listener that day.
with per_country as (
    select
        days.report_date,
        users.country,
        sum(days.listen_count) as listen_count,
        count(*) as unique_listeners,
        sum(days.listen_ms) as total_listening_ms
    from listener_days as days
    inner join keyed_users as users on days.user_sk = users.user_sk
    group by days.report_date, users.country
),

final as (
    select
        report_date,
        country,
        cast(listen_count as bigint) as listen_count,
        cast(unique_listeners as bigint) as unique_listeners,
        cast(total_listening_ms as bigint) as total_listening_ms
    from per_country
)

select * from final
