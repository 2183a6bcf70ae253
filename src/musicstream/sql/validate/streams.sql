-- Streams rules (SPEC §2). In: keyed_streams (each record typed and looked up in the
-- dimensions: keyed_streams.sql), lake_events (kept events of the batch's dates from earlier
-- batches, by surrogate keys), batch_context (future_limit). Out: every row's `reasons`,
-- `warnings` and typed t_* columns, with the surrogate keys of its user and song (NULL when
-- unknown).

-- Copies of one event within the batch: the first (by file, then record) is kept. A hash of
-- the event finds the few rows that can have copies (one integer to group on); only those
-- are compared on the event itself and ordered.
with copied as (
    select hash(t_user_id, t_track_id, t_listen_time) as event_key
    from keyed_streams
    where t_user_id is not null and t_track_id is not null and t_listen_time is not null
    group by hash(t_user_id, t_track_id, t_listen_time)
    having count(*) > 1
),

later_copies as (
    select
        _file_idx,
        _ord
    from (
        select
            keyed._file_idx,
            keyed._ord,
            row_number() over (
                partition by keyed.t_user_id, keyed.t_track_id, keyed.t_listen_time
                order by keyed._file_idx, keyed._ord
            ) as event_copy
        from keyed_streams as keyed
        inner join copied
            on hash(keyed.t_user_id, keyed.t_track_id, keyed.t_listen_time) = copied.event_key
        where
            keyed.t_user_id is not null
            and keyed.t_track_id is not null
            and keyed.t_listen_time is not null
    ) as copies
    where event_copy > 1
),

checked as (
    select
        keyed.*,
        later.event_copy_ord is not null or seen.user_sk is not null as is_duplicate
    from keyed_streams as keyed
    left join (select _file_idx, _ord as event_copy_ord from later_copies) as later
        on keyed._file_idx = later._file_idx and keyed._ord = later.event_copy_ord
    left join lake_events as seen
        on keyed.t_user_sk = seen.user_sk
        and keyed.t_track_sk = seen.track_sk
        and keyed.t_listen_time = seen.listen_time
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
            case when t_user_id is not null and t_user_sk is null then 'unknown_user' end,
            case when t_track_id is null then 'missing_track_id' end,
            case when t_track_id is not null and t_track_sk is null then 'unknown_track' end,
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
