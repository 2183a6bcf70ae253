-- Listening per listener and day: how much, how many distinct tracks, and the genre they
-- played most (ties broken by that genre's listening ms, then genre name).
with top_genre as (
    select
        report_date,
        user_sk,
        genre,
        row_number() over (
            partition by report_date, user_sk
            order by listen_count desc, listen_ms desc, genre asc
        ) as position
    from listener_genres
),

final as (
    select
        users.user_id,
        days.report_date,
        cast(days.listen_count as bigint) as listen_count,
        cast(days.unique_tracks as bigint) as unique_tracks,
        cast(days.listen_ms as bigint) as total_listening_ms,
        top_genre.genre as top_genre
    from listener_days as days
    inner join keyed_users as users on days.user_sk = users.user_sk
    inner join top_genre
        on days.report_date = top_genre.report_date
        and days.user_sk = top_genre.user_sk
        and top_genre.position = 1
)

select * from final
