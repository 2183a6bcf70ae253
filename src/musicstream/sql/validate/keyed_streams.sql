-- Each streams record parsed once (typed t_* columns) and looked up in the dimensions (after
-- this batch's upserts): its user's and song's surrogate keys, NULL when unknown. The engines
-- keep it as keyed_streams: the rules (streams.sql) read it three times.
with source as (
    select
        _file_idx,
        _ord,
        _file_reason,
        ms_played,
        ms_id(user_id) as t_user_id,
        ms_id(track_id) as t_track_id,
        ms_ts(listen_time) as t_listen_time,
        ms_int(ms_played) as t_ms_played
    from raw_streams
),

final as (
    select
        source.*,
        users.user_sk as t_user_sk,
        users.created_at as user_created_at,
        songs.track_sk as t_track_sk
    from source
    left join curated_users as users on source.t_user_id = users.user_id
    left join curated_songs as songs on source.t_track_id = songs.track_id
)

select * from final
