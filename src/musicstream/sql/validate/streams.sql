-- Streams rules (SPEC §2). In: raw_streams, curated_users and curated_songs (after this
-- batch's upserts), lake_events (kept events of the batch's dates from earlier batches),
-- batch_context (future_limit). Out: every row's `reasons`, `warnings` and typed t_* columns.
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

referenced as (
    select
        source.*,
        users.user_id as known_user,
        users.created_at as user_created_at,
        songs.track_id as known_track,
        hash(source.t_user_id, source.t_track_id, source.t_listen_time) as event_key
    from source
    left join curated_users as users on source.t_user_id = users.user_id
    left join curated_songs as songs on source.t_track_id = songs.track_id
),

-- Only keys seen more than once need ordering: a cheap aggregate on a hash finds them.
repeated as (
    select event_key
    from referenced
    where t_user_id is not null and t_track_id is not null and t_listen_time is not null
    group by event_key
    having count(*) > 1
),

flagged as (
    select
        referenced.*,
        coalesce(
            t_user_id is not null and t_track_id is not null and t_listen_time is not null
            and repeated.event_key is not null,
            false
        ) as is_repeated
    from referenced
    left join repeated on referenced.event_key = repeated.event_key
),

copies as (
    select
        *,
        row_number() over (
            partition by t_user_id, t_track_id, t_listen_time order by _file_idx, _ord
        ) as event_copy
    from flagged
    where is_repeated
    union all
    select
        *,
        1 as event_copy
    from flagged
    where not is_repeated
),

checked as (
    select
        copies.*,
        seen.user_id is not null as seen_before
    from copies
    left join lake_events as seen
        on copies.t_user_id = seen.user_id
        and copies.t_track_id = seen.track_id
        and copies.t_listen_time = seen.listen_time
),

final as (
    select
        _file_idx,
        _ord,
        t_user_id,
        t_track_id,
        t_listen_time,
        t_ms_played,
        coalesce(_file_reason, concat_ws(
            ';',
            case when t_user_id is null then 'missing_user_id' end,
            case when t_user_id is not null and known_user is null then 'unknown_user' end,
            case when t_track_id is null then 'missing_track_id' end,
            case when t_track_id is not null and known_track is null then 'unknown_track' end,
            case when t_listen_time is null then 'invalid_listen_time' end,
            case when t_listen_time > ctx.future_limit then 'future_listen_time' end,
            case
                when ms_id(ms_played) is not null
                    and (t_ms_played is null or t_ms_played not between 0 and 86400000)
                    then 'invalid_ms_played'
            end,
            case when event_copy > 1 or seen_before then 'duplicate_event' end
        )) as reasons,
        case
            when t_listen_time < user_created_at then 'listen_before_signup'
        end as warnings
    from checked
    cross join batch_context as ctx
)

select * from final
