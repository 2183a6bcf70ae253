"""Peer baseline: the pandas-in-one-process pipeline of the seed projects.

Read every CSV whole into DataFrames, drop bad rows (missing keys, unknown songs and users,
unparseable times, exact duplicate events), merge, ``groupby`` per KPI, sort for the top-N
tables and write the store with ``to_sql``. It recomputes every date of the batch and keeps
no lake. Ranking follows SPEC §3 (sort by count, listeners, name), so its KPIs should equal
musicstream's. ``python -m bench.peers.pandas_pipeline LANDING STORE``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from bench.peers.store import open_store
from musicstream.datasets import KPI_COLUMNS

TOP = {"top_songs_daily": 3, "top_genres_daily": 5, "top_artists_daily": 10}


def read(folder: Path, **options: object) -> pd.DataFrame:
    """All CSVs of a dataset folder, headers trimmed and lower-cased, in file order."""
    frames = []
    for path in sorted(folder.rglob("*.csv*")):
        frame = pd.read_csv(path, encoding="utf-8-sig", **options)  # type: ignore[call-overload]
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def songs(landing: Path) -> pd.DataFrame:
    """Songs with a track_id, a genre and a duration; the first row of a track_id wins."""
    frame = read(landing / "songs", dtype=str, keep_default_na=False)
    frame["track_id"] = frame["track_id"].str.strip()
    frame = frame[(frame["track_id"] != "") & (frame["track_genre"] != "")]
    frame = frame.drop_duplicates("track_id", keep="first")
    frame["duration_ms"] = pd.to_numeric(frame["duration_ms"], errors="coerce")
    return frame.dropna(subset=["duration_ms"]).rename(columns={"track_genre": "genre"})


def users(landing: Path) -> pd.DataFrame:
    """Users by trimmed id (first row wins) with their KPI country (empty → Unknown)."""
    frame = read(landing / "users", dtype=str, keep_default_na=False)
    frame["user_id"] = frame["user_id"].str.strip()
    frame = frame[frame["user_id"] != ""].drop_duplicates("user_id", keep="first")
    frame["country"] = frame["user_country"].str.strip().replace("", "Unknown")
    return frame


def streams(landing: Path) -> pd.DataFrame:
    """Streams with keys, a parseable time not in the future, each event once."""
    frame = read(landing / "streams", dtype={"user_id": str, "track_id": str, "listen_time": str})
    frame["user_id"] = frame["user_id"].str.strip()
    frame["track_id"] = frame["track_id"].str.strip()
    frame["ts"] = pd.to_datetime(frame["listen_time"], utc=True, format="ISO8601", errors="coerce")
    frame = frame.dropna(subset=["user_id", "track_id", "ts"])
    frame = frame[frame["ts"] <= pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=1)]
    return frame.drop_duplicates(["user_id", "track_id", "ts"], keep="first")


def load(landing: Path) -> pd.DataFrame:
    """Kept streams joined with their song and user: one row per stream event."""
    song_cols = ["track_id", "track_name", "artists", "genre", "duration_ms"]
    events = streams(landing).merge(songs(landing)[song_cols], on="track_id")
    events = events.merge(users(landing)[["user_id", "country"]], on="user_id")
    events["listen_ms"] = events["ms_played"].fillna(events["duration_ms"]).astype("int64")
    events["report_date"] = events["ts"].dt.tz_convert(None).dt.normalize()
    return events


def stats(events: pd.DataFrame, keys: list[str], total: bool = True) -> pd.DataFrame:
    """listen_count, unique_listeners (and total_listening_ms) per ``keys``."""
    aggs = {"listen_count": ("user_id", "size"), "unique_listeners": ("user_id", "nunique")}
    if total:
        aggs["total_listening_ms"] = ("listen_ms", "sum")
    return events.groupby(keys, sort=False).agg(**aggs).reset_index()


def top(frame: pd.DataFrame, groups: list[str], name: str, n: int) -> pd.DataFrame:
    """The first ``n`` rows per group by listen_count desc, listeners desc, ``name`` asc."""
    ordered = frame.sort_values(
        [*groups, "listen_count", "unique_listeners", name],
        ascending=[True] * len(groups) + [False, False, True],
    )
    head = ordered.groupby(groups, sort=False).head(n).copy()
    head["rank"] = head.groupby(groups, sort=False).cumcount() + 1
    return head


def artist_plays(events: pd.DataFrame, names: pd.DataFrame) -> pd.DataFrame:
    """One row per stream and credited artist (``artists`` split on ';', trimmed, once each)."""
    credits = names[["track_id", "artists"]].assign(artist=names["artists"].str.split(";"))
    credits = credits.explode("artist")
    credits["artist"] = credits["artist"].str.strip()
    credits = credits[credits["artist"].fillna("") != ""].drop_duplicates(["track_id", "artist"])
    return events[["report_date", "track_id", "user_id"]].merge(
        credits[["track_id", "artist"]], on="track_id"
    )


def kpis(events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every SPEC §3 KPI table of the events."""
    genre = stats(events, ["report_date", "genre"])
    genre["avg_listening_ms_per_stream"] = genre["total_listening_ms"] / genre["listen_count"]
    genre["avg_listening_ms_per_user"] = genre["total_listening_ms"] / genre["unique_listeners"]
    track = stats(events, ["report_date", "track_id"])
    names = events.drop_duplicates("track_id")[["track_id", "track_name", "artists", "genre"]]
    track = track.merge(names, on="track_id")
    track["avg_listening_ms_per_user"] = track["total_listening_ms"] / track["unique_listeners"]
    plays = artist_plays(events, names)
    return {
        "genre_daily": genre,
        "top_genres_daily": top(genre, ["report_date"], "genre", TOP["top_genres_daily"]),
        "track_daily": track,
        "top_songs_daily": top(track, ["report_date", "genre"], "track_id", TOP["top_songs_daily"]),
        "country_daily": stats(events, ["report_date", "country"]),
        "top_artists_daily": top(
            stats(plays, ["report_date", "artist"], total=False),
            ["report_date"],
            "artist",
            TOP["top_artists_daily"],
        ),
    }


def write(tables: dict[str, pd.DataFrame], store: Path) -> None:
    """Each table into the store in one ``to_sql`` call (batched inserts)."""
    con = open_store(store)
    try:
        for table, frame in tables.items():
            out = frame.assign(report_date=frame["report_date"].dt.strftime("%Y-%m-%d"))
            out[list(KPI_COLUMNS[table])].to_sql(table, con, if_exists="append", index=False)
        con.commit()
    finally:
        con.close()


def main(argv: list[str]) -> None:
    landing, store = Path(argv[0]), Path(argv[1])  # a third argument (threads) is ignored
    tables = kpis(load(landing))
    write(tables, store)
    print({name: len(frame) for name, frame in tables.items()})


if __name__ == "__main__":
    main(sys.argv[1:])
