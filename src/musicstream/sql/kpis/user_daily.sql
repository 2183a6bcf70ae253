-- Listening per listener and day: how much, how many distinct tracks, and the genre they
-- played most (ties broken by that genre's listening ms, then genre name).
with per_genre as (
    select
        plays.report_date,
        plays.user_sk,
        songs.genre,
        sum(plays.listen_count) as listen_count,
        sum(plays.listen_ms) as listen_ms
    from plays
    inner join keyed_songs as songs on plays.track_sk = songs.track_sk
    group by plays.report_date, plays.user_sk, songs.genre
),

top_genre as (
    select
        report_date,
        user_sk,
        genre,
        row_number() over (
            partition by report_date, user_sk
            order by listen_count desc, listen_ms desc, genre asc
        ) as position
    from per_genre
),

per_user as (
    select
        report_date,
        user_sk,
        sum(listen_count) as listen_count,
        count(track_sk) as unique_tracks,
        sum(listen_ms) as total_listening_ms
    from plays
    group by report_date, user_sk
),

final as (
    select
        users.user_id,
        per_user.report_date,
        cast(per_user.listen_count as bigint) as listen_count,
        cast(per_user.unique_tracks as bigint) as unique_tracks,
        cast(per_user.total_listening_ms as bigint) as total_listening_ms,
        top_genre.genre as top_genre
    from per_user
    inner join keyed_users as users on per_user.user_sk = users.user_sk
    inner join top_genre
        on per_user.report_date = top_genre.report_date
        and per_user.user_sk = top_genre.user_sk
        and top_genre.position = 1
)

select * from final
