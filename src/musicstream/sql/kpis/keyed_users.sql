-- Users with an integer surrogate key and their KPI country (empty → 'Unknown').
with final as (
    select
        user_id,
        coalesce(nullif(trim(user_country), ''), 'Unknown') as country,
        row_number() over (order by user_id) as user_sk
    from curated_users
)

select * from final
