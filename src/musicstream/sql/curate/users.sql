-- New users snapshot: upsert of this batch's clean rows (a later file wins).
with batch as (
    select
        t_user_id as user_id,
        user_name,
        cast(t_user_age as integer) as user_age,
        nullif(trim(user_country), '') as user_country,
        t_created_at as created_at,
        row_number() over (partition by t_user_id order by _file_idx desc) as newest
    from checked_users
    where reasons = ''
),

kept as (
    select * from curated_users as curated
    where not exists (select 1 from batch where batch.user_id = curated.user_id)
),

final as (
    select * from kept
    union all
    select user_id, user_name, user_age, user_country, created_at
    from batch
    where newest = 1
)

select * from final
