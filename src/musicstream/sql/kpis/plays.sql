-- The kept streams of the dates being computed, one row per (date, track, listener):
-- how often, and how long (listen_ms = ms_played when given, else the song's duration — a
-- full-play equivalent). Every KPI is an aggregate of this (or, per hour, of the streams),
-- on the surrogate keys the curated streams carry.
with final as (
    select
        streams.report_date,
        streams.track_sk,
        streams.user_sk,
        count(*) as listen_count,
        sum(coalesce(streams.ms_played, songs.duration_ms)) as listen_ms
    from date_streams as streams
    inner join keyed_songs as songs on streams.track_sk = songs.track_sk
    group by streams.report_date, streams.track_sk, streams.user_sk
)

select * from final
