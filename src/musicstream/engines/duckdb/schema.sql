-- Empty curated dimensions, for a lake that has none yet.
create or replace temp table empty_songs (
    track_id varchar, track_name varchar, album_name varchar, artists varchar,
    track_genre varchar, duration_ms bigint, popularity integer, explicit boolean
);

create or replace temp table empty_users (
    user_id varchar, user_name varchar, user_age integer, user_country varchar,
    created_at timestamp
);

create or replace temp table empty_streams (
    user_id varchar, track_id varchar, listen_time timestamp, ms_played bigint,
    batch_id varchar, report_date date
);
