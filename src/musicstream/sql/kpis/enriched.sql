-- Kept streams of the dates being computed, joined to the current dimensions (SPEC §3):
-- genre, artists and track name from the song, country from the user, listen_ms from
-- ms_played when given, else the song's duration (a full-play equivalent).
with final as (
    select
        streams.report_date,
        streams.user_id,
        streams.track_id,
        songs.track_name,
        songs.artists,
        songs.track_genre as genre,
        coalesce(nullif(trim(users.user_country), ''), 'Unknown') as country,
        coalesce(streams.ms_played, songs.duration_ms) as listen_ms
    from date_streams as streams
    inner join curated_songs as songs on streams.track_id = songs.track_id
    left join curated_users as users on streams.user_id = users.user_id
)

select * from final
