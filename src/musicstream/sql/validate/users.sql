-- Users rules (SPEC §2). In: raw_users. Out: every row with `reasons` and typed t_* columns.
with source as (
    select
        *,
        ms_id(user_id) as t_user_id,
        ms_int(user_age) as t_user_age,
        ms_date_or_ts(created_at) as t_created_at
    from raw_users
),

ranked as (
    select
        *,
        case
            when t_user_id is not null
                then row_number() over (partition by _file_idx, t_user_id order by _ord)
        end as key_copy
    from source
),

final as (
    select
        *,
        coalesce(_file_reason, concat_ws(
            ';',
            case when t_user_id is null then 'missing_user_id' end,
            case when key_copy > 1 then 'duplicate_user_id' end,
            case
                when ms_id(user_age) is not null
                    and (t_user_age is null or t_user_age not between 13 and 120)
                    then 'invalid_age'
            end,
            case
                when ms_id(created_at) is not null and t_created_at is null
                    then 'invalid_created_at'
            end
        )) as reasons,
        cast(null as varchar) as warnings
    from ranked
)

select * from final
