-- Listening per listener country and day (empty country counts as 'Unknown').
with final as (
    select
        report_date,
        country,
        count(*) as listen_count,
        count(distinct user_id) as unique_listeners,
        cast(sum(listen_ms) as bigint) as total_listening_ms
    from enriched
    group by report_date, country
)

select * from final
