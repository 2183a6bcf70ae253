-- The N most played songs of each genre and day; ties broken by listeners, then track_id.
with per_track as (
    select
        report_date,
        genre,
        track_id,
        any_value(track_name) as track_name,
        any_value(artists) as artists,
        count(*) as listen_count,
        count(distinct user_id) as unique_listeners
    from enriched
    group by report_date, genre, track_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by report_date, genre
            order by listen_count desc, unique_listeners desc, track_id asc
        ) as position
    from per_track
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
