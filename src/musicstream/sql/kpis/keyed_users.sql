-- The listeners of the dates being computed, by their surrogate key, with their KPI country
-- (empty → 'Unknown'). Only those users: a one-day batch reads its own listeners, not every
-- user ever seen.
with final as (
    select
        users.user_sk,
        users.user_id,
        coalesce(nullif(trim(users.user_country), ''), 'Unknown') as country
    from curated_users as users
    where users.user_sk in (select user_sk from listener_days)
)

select * from final
