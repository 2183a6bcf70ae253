-- The N most played genres of each day; ties broken by listeners, then genre name.
-- Ranks the rows of genre_daily.
with ranked as (
    select
        *,
        row_number() over (
            partition by report_date
            order by listen_count desc, unique_listeners desc, genre asc
        ) as position
    from genre_daily
),

final as (
    select
        report_date,
        cast(position as integer) as rank,
        genre,
        listen_count,
        unique_listeners,
        total_listening_ms
    from ranked
    cross join kpi_params
    where position <= kpi_params.top_genres
)

select * from final
