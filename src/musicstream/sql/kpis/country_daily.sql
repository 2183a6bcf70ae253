-- Listening per listener country and day (empty country counts as 'Unknown').
with per_country as (
    select
        plays.report_date,
        users.country,
        sum(plays.listen_count) as listen_count,
        count(distinct plays.user_sk) as unique_listeners,
        sum(plays.listen_ms) as total_listening_ms
    from plays
    inner join keyed_users as users on plays.user_sk = users.user_sk
    group by plays.report_date, users.country
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
