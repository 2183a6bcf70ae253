-- The listeners of the dates being computed, with an integer surrogate key and their KPI
-- country (empty → 'Unknown'). Only those users: a one-day batch numbers its own listeners,
-- not every user ever seen.
with listeners as (
    select distinct user_id
    from date_streams
),

final as (
    select
        users.user_id,
        coalesce(nullif(trim(users.user_country), ''), 'Unknown') as country,
        row_number() over (order by users.user_id) as user_sk
    from curated_users as users
    inner join listeners on users.user_id = listeners.user_id
)

select * from final
