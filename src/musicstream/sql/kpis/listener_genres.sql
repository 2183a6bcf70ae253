-- Each listener's streams and listening ms per genre and day: genre_daily counts its
-- listeners as rows of this, user_daily picks each listener's top genre from it.
with final as (
    select
        plays.report_date,
        plays.user_sk,
        songs.genre,
        sum(plays.listen_count) as listen_count,
        sum(plays.listen_ms) as listen_ms
    from plays
    inner join keyed_songs as songs on plays.track_sk = songs.track_sk
    group by plays.report_date, plays.user_sk, songs.genre
)

select * from final
