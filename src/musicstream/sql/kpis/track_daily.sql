-- Listening per track and day.
with final as (
    select
        track_id,
        report_date,
        any_value(track_name) as track_name,
        any_value(artists) as artists,
        any_value(genre) as genre,
        count(*) as listen_count,
        count(distinct user_id) as unique_listeners,
        cast(sum(listen_ms) as bigint) as total_listening_ms,
        cast(sum(listen_ms) as double) / count(distinct user_id) as avg_listening_ms_per_user
    from enriched
    group by track_id, report_date
)

select * from final
