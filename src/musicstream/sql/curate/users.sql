-- New users snapshot: upsert of this batch's clean rows (a later file wins). A row keeps its
-- surrogate key; a new user_id takes its number from new_keys_users.
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
    select
        batch.user_id, batch.user_name, batch.user_age, batch.user_country, batch.created_at,
        coalesce(curated.user_sk, numbered.user_sk) as user_sk
    from batch
    left join curated_users as curated on batch.user_id = curated.user_id
    left join new_keys_users as numbered on batch.user_id = numbered.user_id
    where batch.newest = 1
)

select * from final
