-- Each genre's share of all plays and of all listening time over the period.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with source as (
    select
        genre,
        listen_count,
        total_listening_ms
    from genre_daily
    where report_date between :date_from and :date_to
),

totals as (
    select
        genre,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(total_listening_ms) as bigint) as total_listening_ms
    from source
    group by genre
),

final as (
    select
        genre,
        listen_count,
        total_listening_ms,
        cast(listen_count as double) / nullif(sum(listen_count) over (), 0) as play_share,
        cast(total_listening_ms as double)
        / nullif(sum(total_listening_ms) over (), 0) as listening_share
    from totals
)

select * from final
order by listen_count desc, genre
