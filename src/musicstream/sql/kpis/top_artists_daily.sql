-- The N most played artists of each day: every credited artist of a song gets its streams.
-- Ties broken by listeners, then artist name (artist_sk sorts like the name).
with per_artist as (
    select
        plays.report_date,
        credits.artist_sk,
        sum(plays.listen_count) as listen_count,
        count(distinct plays.user_sk) as unique_listeners
    from plays
    inner join track_artists as credits on plays.track_sk = credits.track_sk
    group by plays.report_date, credits.artist_sk
),

ranked as (
    select
        *,
        row_number() over (
            partition by report_date
            order by listen_count desc, unique_listeners desc, artist_sk asc
        ) as position
    from per_artist
),

named as (
    select distinct artist_sk, artist
    from track_artists
),

final as (
    select
        ranked.report_date,
        cast(ranked.position as integer) as rank,
        named.artist,
        cast(ranked.listen_count as bigint) as listen_count,
        cast(ranked.unique_listeners as bigint) as unique_listeners
    from ranked
    inner join named on ranked.artist_sk = named.artist_sk
    cross join kpi_params
    where ranked.position <= kpi_params.top_artists
)

select * from final
