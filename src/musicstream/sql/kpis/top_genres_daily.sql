-- The N most played genres of each day; ties broken by listeners, then genre name.
with per_genre as (
    select
        report_date,
        genre,
        count(*) as listen_count,
        count(distinct user_id) as unique_listeners,
        cast(sum(listen_ms) as bigint) as total_listening_ms
    from enriched
    group by report_date, genre
),

ranked as (
    select
        *,
        row_number() over (
            partition by report_date
            order by listen_count desc, unique_listeners desc, genre asc
        ) as position
    from per_genre
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
