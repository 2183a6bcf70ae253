-- Top artists over the period by plays. Counted from track_daily rather than from the daily
-- top-10 lists, so an artist who is 11th every day still counts. As in the KPIs, each
-- credited artist of a track (artists split on ';', trimmed) gets the track's plays.
-- Ties: plays desc, listening time desc, artist asc.
-- params: :date_from, :date_to (yyyy-mm-dd, inclusive), :top_n
with source as (
    select
        report_date,
        track_id,
        artists,
        listen_count,
        total_listening_ms
    from track_daily
    where report_date between :date_from and :date_to
),

credits as (
    select distinct
        s.report_date,
        s.track_id,
        trim(c.artist) as artist,
        s.listen_count,
        s.total_listening_ms
    from source as s
    cross join unnest(split(s.artists, ';')) as c (artist)
),

totals as (
    select
        artist,
        cast(sum(listen_count) as bigint) as listen_count,
        cast(sum(total_listening_ms) as bigint) as total_listening_ms,
        count(distinct track_id) as tracks
    from credits
    where artist <> ''
    group by artist
),

final as (
    select
        row_number() over (
            order by listen_count desc, total_listening_ms desc, artist asc
        ) as rank,
        artist,
        listen_count,
        total_listening_ms,
        tracks
    from totals
)

select * from final
where rank <= :top_n
order by rank
