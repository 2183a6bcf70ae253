-- Songs rules (SPEC §2). In: raw_songs (text fields as read, _file_idx, _ord, _file_reason).
-- Out: every row with `reasons` ('' when clean; only the file's reason for a file missing a
-- required column) and typed t_* columns.
with source as (
    select
        *,
        ms_id(track_id) as t_track_id,
        ms_id(track_genre) as t_track_genre,
        ms_int(duration_ms) as t_duration_ms,
        ms_int(popularity) as t_popularity,
        ms_bool(explicit) as t_explicit
    from raw_songs
),

ranked as (
    select
        *,
        case
            when t_track_id is not null
                then row_number() over (partition by _file_idx, t_track_id order by _ord)
        end as key_copy
    from source
),

final as (
    select
        *,
        coalesce(_file_reason, concat_ws(
            ';',
            case when t_track_id is null then 'missing_track_id' end,
            case when key_copy > 1 then 'duplicate_track_id' end,
            case when t_track_genre is null then 'missing_genre' end,
            case
                when t_duration_ms is null or t_duration_ms not between 1 and 86400000
                    then 'invalid_duration_ms'
            end,
            case
                when ms_id(popularity) is not null
                    and (t_popularity is null or t_popularity not between 0 and 100)
                    then 'invalid_popularity'
            end,
            case
                when ms_id(explicit) is not null and t_explicit is null
                    then 'invalid_explicit'
            end
        )) as reasons,
        cast(null as varchar) as warnings
    from ranked
)

select * from final
