-- The N most played artists of each day: every credited artist of a song gets its streams.
-- Ties broken by listeners, then artist name. Only an artist with at least as many streams as
-- the day's Nth can rank, so only those candidates have their listeners counted.
with per_artist as (
    select
        days.report_date,
        credits.artist,
        sum(days.listen_count) as listen_count
    from track_days as days
    inner join track_artists as credits on days.track_sk = credits.track_sk
    group by days.report_date, credits.artist
),

cutoff as (
    select
        report_date,
        min(listen_count) as least_count
    from (
        select
            per_artist.report_date,
            per_artist.listen_count,
            row_number() over (
                partition by per_artist.report_date order by per_artist.listen_count desc
            ) as position
        from per_artist
    ) as ranked
    cross join kpi_params
    where ranked.position <= kpi_params.top_artists
    group by report_date
),

candidates as (
    select per_artist.*
    from per_artist
    inner join cutoff
        on per_artist.report_date = cutoff.report_date
        and per_artist.listen_count >= cutoff.least_count
),

listeners as (
    select
        candidates.report_date,
        candidates.artist,
        count(distinct plays.user_sk) as unique_listeners
    from candidates
    inner join track_artists as credits on candidates.artist = credits.artist
    inner join plays
        on candidates.report_date = plays.report_date
        and credits.track_sk = plays.track_sk
    group by candidates.report_date, candidates.artist
),

ranked as (
    select
        candidates.report_date,
        candidates.artist,
        candidates.listen_count,
        listeners.unique_listeners,
        row_number() over (
            partition by candidates.report_date
            order by
                candidates.listen_count desc,
                listeners.unique_listeners desc,
                candidates.artist asc
        ) as position
    from candidates
    inner join listeners
        on candidates.report_date = listeners.report_date
        and candidates.artist = listeners.artist
),

final as (
    select
        report_date,
        cast(position as integer) as rank,
        artist,
        cast(listen_count as bigint) as listen_count,
        cast(unique_listeners as bigint) as unique_listeners
    from ranked
    cross join kpi_params
    where position <= kpi_params.top_artists
)

select * from final
