-- Top listeners over the period by plays. With their listening time, the number of days
-- they listened and their share of the period's plays. Ties: plays desc, listening time
-- desc, user id asc.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive), :top_n
with source as (
    select
        user_id,
        listen_count,
        total_listening_ms
    from user_daily
    where report_date between :date_from and :date_to
),

totals as (
    select
        user_id,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(total_listening_ms) as bigint) as total_listening_ms,
        count(*) as active_days
    from source
    group by user_id
),

final as (
    select
        row_number() over (
            order by listen_count desc, total_listening_ms desc, user_id asc
        ) as rank,
        user_id,
        listen_count,
        total_listening_ms,
        active_days,
        cast(listen_count as double) / nullif(sum(listen_count) over (), 0) as play_share
    from totals
)

select * from final
where rank <= :top_n
order by rank
