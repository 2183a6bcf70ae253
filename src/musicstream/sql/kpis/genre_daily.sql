-- Listening per genre and day.
with final as (
    select
        report_date,
        genre,
        count(*) as listen_count,
        count(distinct user_id) as unique_listeners,
        cast(sum(listen_ms) as bigint) as total_listening_ms,
        cast(sum(listen_ms) as double) / count(*) as avg_listening_ms_per_stream,
        cast(sum(listen_ms) as double) / count(distinct user_id) as avg_listening_ms_per_user
    from enriched
    group by report_date, genre
)

select * from final
