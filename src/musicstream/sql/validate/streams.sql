-- Streams rules (SPEC §2). In: raw_streams, curated_users and curated_songs (after this
-- batch's upserts), lake_events (kept events of the batch's dates from earlier batches),
-- batch_context (future_limit). Out: every row's `reasons`, `warnings` and typed t_* columns,
-- with the surrogate keys of its user and song (NULL when unknown).
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

-- Copies of one event within the batch: the first (by file, then record) is kept. A cheap
-- aggregate on the (user, track) pair finds the rows that can have copies; only those have
-- their time parsed and are ordered.
pairs as (
    select hash(ms_id(user_id), ms_id(track_id)) as pair_key
    from raw_streams
    group by hash(ms_id(user_id), ms_id(track_id))
    having count(*) > 1
),

candidates as (
    select
        raw._file_idx,
        raw._ord,
        ms_id(raw.user_id) as t_user_id,
        ms_id(raw.track_id) as t_track_id,
        ms_ts(raw.listen_time) as t_listen_time
    from raw_streams as raw
    inner join pairs on hash(ms_id(raw.user_id), ms_id(raw.track_id)) = pairs.pair_key
),

later_copies as (
    select _file_idx, _ord
    from (
        select
            _file_idx,
            _ord,
            row_number() over (
                partition by t_user_id, t_track_id, t_listen_time order by _file_idx, _ord
            ) as event_copy
        from candidates
        where t_user_id is not null and t_track_id is not null and t_listen_time is not null
    ) as copies
    where event_copy > 1
),

checked as (
    select
        source.*,
        users.user_id as known_user,
        users.user_sk as t_user_sk,
        users.created_at as user_created_at,
        songs.track_id as known_track,
        songs.track_sk as t_track_sk,
        later.event_copy_ord is not null or seen.user_id is not null as is_duplicate
    from source
    left join curated_users as users on source.t_user_id = users.user_id
    left join curated_songs as songs on source.t_track_id = songs.track_id
    left join (select _file_idx, _ord as event_copy_ord from later_copies) as later
        on source._file_idx = later._file_idx and source._ord = later.event_copy_ord
    left join lake_events as seen
        on source.t_user_id = seen.user_id
        and source.t_track_id = seen.track_id
        and source.t_listen_time = seen.listen_time
),

final as (
    select
        _file_idx,
        _ord,
        t_user_id,
        t_track_id,
        t_listen_time,
        t_ms_played,
        t_user_sk,
        t_track_sk,
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
            case when is_duplicate then 'duplicate_event' end
        )) as reasons,
        case
            when t_listen_time < user_created_at then 'listen_before_signup'
        end as warnings
    from checked
    cross join batch_context as ctx
)

select * from final
