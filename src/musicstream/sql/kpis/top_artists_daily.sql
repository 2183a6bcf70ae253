-- The N most played artists of each day: every credited artist of a song gets its streams.
with per_artist as (
    select
        enriched.report_date,
        track_artists.artist,
        count(*) as listen_count,
        count(distinct enriched.user_id) as unique_listeners
    from enriched
    inner join track_artists on enriched.track_id = track_artists.track_id
    group by enriched.report_date, track_artists.artist
),

ranked as (
    select
        *,
        row_number() over (
            partition by report_date
            order by listen_count desc, unique_listeners desc, artist asc
        ) as position
    from per_artist
),

final as (
    select
        report_date,
        cast(position as integer) as rank,
        artist,
        listen_count,
        unique_listeners
    from ranked
    cross join kpi_params
    where position <= kpi_params.top_artists
)

select * from final
