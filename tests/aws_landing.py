"""Two small hand-made batches (lake-relative path -> CSV text), dirty on purpose.

Batch 1: songs, users and two stream files (one gzip, without ms_played) over three days,
with a malformed row, unknown ids, a future listen and a duplicate event. Batch 2: song t01
moves from pop to indie and late streams restate 2026-01-03, where t01 was the only pop
track, so that date's pop rows must disappear from the store; plus a new day and a
duplicate of a batch-1 event.
"""

from __future__ import annotations

SONGS_1 = """track_id,track_name,artists,track_genre,duration_ms,popularity,explicit
t01,One,Ann;Bob,pop,200000,50,True
t02,Two,Bob,rock,180000,40,False
t03,Three,Cy,rock,210000,30,false
t04,Four,Ann,jazz,240000,20,1
t05,Five,Dee; Ann,jazz,150000,10,0
t06,Six,,metal,190000,5,True
t02,Dup,Bob,pop,1,1,True
t07,No genre,Eve,,1000,1,True
"""

USERS_1 = """user_id,user_name,user_age,user_country,created_at
u01,A,30,DE,2025-01-01
u02,B,41,FR,2025-02-01 10:00:00
u03,C,25,,2025-03-01
u04,D,19,US,2026-06-01
u05,E,33,DE,2025-01-05
u06,F,60,FR,2025-01-06
u07,G,5,DE,2025-01-07
"""


def _streams(rows: list[tuple[str, str, str, int | None]], with_ms: bool = True) -> str:
    header = "user_id,track_id,listen_time" + (",ms_played" if with_ms else "")
    lines = [
        f"{u},{t},{ts}" + (f",{'' if ms is None else ms}" if with_ms else "")
        for u, t, ts, ms in rows
    ]
    return "\n".join([header, *lines]) + "\n"


_DAY12 = [  # 30 listens over 2026-01-01/02; every 7th without ms_played
    (
        f"u0{1 + i % 6}",
        f"t0{1 + (i * 5 + i // 6) % 6}",
        f"2026-01-0{1 + i % 2} {i % 24:02d}:{i:02d}:07",
        (i * 7919) % 200_000 if i % 7 else None,
    )
    for i in range(30)
]
_BAD = [
    "u99,t01,2026-01-01 08:00:00,1000",  # unknown_user
    "u01,t99,2026-01-01 08:00:00,1000",  # unknown_track
    'u01,"t02,2026-01-01 09:00:00,5',  # malformed_row
    "u02,t03,2099-01-01T00:00:00Z,5",  # future_listen_time
    _streams([_DAY12[3]]).splitlines()[1],  # duplicate_event
]
STREAMS_A = _streams(_DAY12) + "\n".join(_BAD) + "\n"
STREAMS_B = _streams(  # gzip, no ms_played column: listen_ms is the song's duration
    [
        ("u01", "t01", "2026-01-03T10:00:00Z", None),
        ("u02", "t01", "2026-01-03 11:00:00+01:00", None),
        ("u03", "t02", "2026-01-03 12:00:00.250", None),
        ("u04", "t04", "2026-01-03 13:00:00", None),
        ("u05", "t05", "2026-01-02 23:59:59.999", None),
    ],
    with_ms=False,
)

SONGS_2 = """track_id,track_name,artists,track_genre,duration_ms
t01,One (indie cut),Ann;Bob,indie,200000
"""
STREAMS_C = _streams(
    [
        ("u06", "t02", "2026-01-03 18:00:00", 1234),
        ("u06", "t03", "2026-01-03 19:00:00", 4321),
        ("u01", "t01", "2026-01-03T10:00:00Z", 5),  # duplicate_event of a batch-1 listen
        ("u02", "t06", "2026-01-04 07:00:00", 99_000),
        ("u03", "t06", "2026-01-04 08:00:00", None),
    ]
)

BATCHES: list[dict[str, str]] = [
    {
        "landing/songs/songs.csv": SONGS_1,
        "landing/users/users.csv": USERS_1,
        "landing/streams/day12/a.csv": STREAMS_A,
        "landing/streams/b.csv.gz": STREAMS_B,
    },
    {
        "landing/songs/update.csv": SONGS_2,
        "landing/streams/c.csv": STREAMS_C,
    },
]
DATES = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
TRACKS = ["t01", "t02", "t03", "t04", "t05", "t06"]
USERS = ["u01", "u02", "u03", "u04", "u05", "u06"]
