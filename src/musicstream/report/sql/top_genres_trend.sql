-- Daily plays of the genres that made the daily top-genres list at least once in the
-- period: their whole daily series, so a genre that drops out of the top list for a day
-- shows a dip, not a gap.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with top_genres as (
    select distinct genre
    from top_genres_daily
    where report_date between :date_from and :date_to
),

source as (
    select
        g.report_date,
        g.genre,
        g.listen_count,
        g.unique_listeners,
        g.total_listening_ms
    from genre_daily as g
    inner join top_genres as t on g.genre = t.genre
    where g.report_date between :date_from and :date_to
),

final as (
    select
        cast(report_date as date) as report_date,
        genre,
        listen_count,
        unique_listeners,
        total_listening_ms
    from source
)

select * from final
order by report_date, listen_count desc, genre
