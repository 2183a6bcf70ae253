-- Plays, listeners and listening time per genre and day, with the genre's share of the
-- day's plays.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with source as (
    select
        report_date,
        genre,
        listen_count,
        unique_listeners,
        total_listening_ms,
        avg_listening_ms_per_user
    from genre_daily
    where report_date between :date_from and :date_to
),

final as (
    select
        cast(report_date as date) as report_date,
        genre,
        listen_count,
        unique_listeners,
        total_listening_ms,
        avg_listening_ms_per_user,
        cast(listen_count as double)
        / nullif(sum(listen_count) over (partition by report_date), 0) as play_share
    from source
)

select * from final
order by report_date, listen_count desc, genre
