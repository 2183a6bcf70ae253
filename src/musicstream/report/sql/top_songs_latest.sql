-- The top songs of every genre on the latest day of the period, genres ordered by their
-- plays that day.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive)
with latest as (
    select max(report_date) as report_date
    from top_songs_daily
    where report_date between :date_from and :date_to
),

songs as (
    select s.*
    from top_songs_daily as s
    inner join latest as l on s.report_date = l.report_date
),

genres as (
    select
        g.genre,
        g.listen_count
    from genre_daily as g
    inner join latest as l on g.report_date = l.report_date
),

final as (
    select
        cast(s.report_date as date) as report_date,
        s.genre,
        s.rank,
        s.track_id,
        s.track_name,
        s.artists,
        s.listen_count,
        s.unique_listeners,
        g.listen_count as genre_listen_count
    from songs as s
    left join genres as g on s.genre = g.genre
)

select * from final
order by genre_listen_count desc, genre, rank
