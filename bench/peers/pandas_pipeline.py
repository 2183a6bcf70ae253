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

import pandas as pd  # noqa: TID253 -- this peer is pandas (the bench extra)

from bench.peers.store import open_store
from musicstream.datasets import KPI_COLUMNS, PERIODS

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
    """Users by trimmed id (first row wins) with their KPI country (empty → Unknown) and
    the UTC date of their ``created_at`` (``signup``)."""
    frame = read(landing / "users", dtype=str, keep_default_na=False)
    frame["user_id"] = frame["user_id"].str.strip()
    frame = frame[frame["user_id"] != ""].drop_duplicates("user_id", keep="first")
    frame["country"] = frame["user_country"].str.strip().replace("", "Unknown")
    frame["signup"] = utc_date(frame.get("created_at", pd.Series("", index=frame.index)))
    return frame


def utc_date(text: pd.Series) -> pd.Series:
    """A date or timestamp column as its UTC date (a bare date is that date, an offset is
    converted to UTC first); empty or unparseable is NaT."""
    parsed = pd.to_datetime(text.str.strip(), utc=True, format="ISO8601", errors="coerce")
    return parsed.dt.tz_convert(None).dt.normalize()


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
    events = events.merge(users(landing)[["user_id", "country", "signup"]], on="user_id")
    events["listen_ms"] = events["ms_played"].fillna(events["duration_ms"]).astype("int64")
    events["report_date"] = events["ts"].dt.tz_convert(None).dt.normalize()
    events["hour"] = events["ts"].dt.hour
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


def user_daily(events: pd.DataFrame) -> pd.DataFrame:
    """Per listener and day: streams, distinct tracks, ms, and the genre with most streams
    (ties: more ms in it, then genre ascending)."""
    keys = ["user_id", "report_date"]
    per_user = events.groupby(keys).agg(
        listen_count=("track_id", "size"),
        unique_tracks=("track_id", "nunique"),
        total_listening_ms=("listen_ms", "sum"),
    )
    genres = events.groupby([*keys, "genre"]).agg(
        plays=("track_id", "size"), ms=("listen_ms", "sum")
    )
    ordered = genres.reset_index().sort_values(
        [*keys, "plays", "ms", "genre"], ascending=[True, True, False, False, True]
    )
    top_genre = ordered.drop_duplicates(keys).set_index(keys)["genre"].rename("top_genre")
    return per_user.join(top_genre).reset_index()


def period_bounds(dates: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """The first and last date of the ``kind`` period (day, ISO week, month) of each date."""
    if kind == "day":
        return dates, dates
    if kind == "week":
        monday = dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
        return monday, monday + pd.Timedelta(days=6)
    months = dates.dt.to_period("M")
    return months.dt.start_time, months.dt.end_time.dt.normalize()


def active_listeners(events: pd.DataFrame) -> pd.DataFrame:
    """Per period kind and period: distinct listeners, the new ones (signup date inside the
    period), streams and ms."""
    tables = []
    for kind in PERIODS:
        start, end = period_bounds(events["report_date"], kind)
        keys = ["period_start", "period_end"]
        per_listener = (
            events.assign(period_start=start, period_end=end)
            .groupby([*keys, "user_id"])
            .agg(
                listen_count=("user_id", "size"),
                total_listening_ms=("listen_ms", "sum"),
                signup=("signup", "first"),
            )
            .reset_index()
        )
        per_listener["new"] = per_listener["signup"].between(
            per_listener["period_start"], per_listener["period_end"]
        )
        table = per_listener.groupby(keys).agg(
            listeners=("user_id", "size"),
            new_listeners=("new", "sum"),
            listen_count=("listen_count", "sum"),
            total_listening_ms=("total_listening_ms", "sum"),
        )
        tables.append(table.reset_index().assign(period=kind))
    return pd.concat(tables, ignore_index=True)


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
        "user_daily": user_daily(events),
        "hourly_activity": stats(events, ["report_date", "hour"]),
        "active_listeners": active_listeners(events),
    }


def write(tables: dict[str, pd.DataFrame], store: Path) -> None:
    """Each table into the store in one ``to_sql`` call (batched inserts), dates as ISO text."""
    con = open_store(store)
    try:
        for table, frame in tables.items():
            out = frame[list(KPI_COLUMNS[table])].copy()
            for column in out.select_dtypes("datetime").columns:
                out[column] = out[column].dt.strftime("%Y-%m-%d")
            out.to_sql(table, con, if_exists="append", index=False)
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
