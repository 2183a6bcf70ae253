-- The kept streams of the dates being computed, one row per (date, track, listener):
-- how often, and how long (listen_ms = ms_played when given, else the song's duration — a
-- full-play equivalent). Every KPI is an aggregate of this, on integer keys.
with final as (
    select
        streams.report_date,
        songs.track_sk,
        users.user_sk,
        count(*) as listen_count,
        sum(coalesce(streams.ms_played, songs.duration_ms)) as listen_ms
    from date_streams as streams
    inner join keyed_songs as songs on streams.track_id = songs.track_id
    left join keyed_users as users on streams.user_id = users.user_id
    group by streams.report_date, songs.track_sk, users.user_sk
)

select * from final
