-- The N most played songs of each genre and day; ties broken by listeners, then track_id.
-- Ranks the rows of track_daily.
with ranked as (
    select
        *,
        row_number() over (
            partition by report_date, genre
            order by listen_count desc, unique_listeners desc, track_id asc
        ) as position
    from track_daily
),

final as (
    select
        report_date,
        genre,
        cast(position as integer) as rank,
        track_id,
        track_name,
        artists,
        listen_count,
        unique_listeners
    from ranked
    cross join kpi_params
    where position <= kpi_params.top_songs
)

select * from final
