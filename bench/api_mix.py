"""The request mix: SPEC §5's twelve access patterns in two classes, keys drawn from the lake.

*lookups* are the single-date patterns (1, 3, 4, 6, 7, 9) and one song or user (11, 12);
*ranges* are the 30-day ranges (2, 5, 8, 10). Shares within a class follow how a product
front end would read: song and user pages most, then the day's top lists, then the
breakdowns. Keys are real: dates the lake has loaded; genres, tracks and users drawn with
probability proportional to their plays in the lake (a popular track is looked up more, as
it is listened to more). A range ends on one of the last four loaded dates or on the day the
concurrent run adds, and starts 29 days earlier.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from musicstream import layout

RANGE_DAYS = 30
CLASSES = ("lookups", "ranges")


@dataclass(frozen=True)
class Weighted:
    """Values with cumulative weights, for drawing by popularity."""

    values: list[str]
    cum: list[float]

    def draw(self, rng: random.Random) -> str:
        at = bisect.bisect_right(self.cum, rng.random() * self.cum[-1])
        return quote(self.values[min(at, len(self.values) - 1)], safe="")


@dataclass(frozen=True)
class Keys:
    """What the requests ask for, read from the base lake's store."""

    dates: list[dt.date]
    genres: Weighted
    tracks: Weighted
    users: Weighted

    def date(self, rng: random.Random) -> str:
        return rng.choice(self.dates).isoformat()

    def window(self, rng: random.Random) -> str:
        ends = [*self.dates[-4:], self.dates[-1] + dt.timedelta(days=1)]
        end = rng.choice(ends)
        start = end - dt.timedelta(days=RANGE_DAYS - 1)
        return f"from={start}&to={end}"


@dataclass(frozen=True)
class Pattern:
    """One access pattern: its SPEC §5 number, the request, its share of its class."""

    number: int
    request: str
    share: int
    path: Callable[[Keys, random.Random], str]


KPIS = "/v1/kpis/"
Draw = Callable[[Keys, random.Random], str]


def _on_date(table: str, genre: bool = False) -> Draw:
    def path(k: Keys, r: random.Random) -> str:
        one = f"{KPIS}{table}?date={k.date(r)}"
        return f"{one}&genre={k.genres.draw(r)}" if genre else one

    return path


def _over_range(table: str, key: str) -> Draw:
    def path(k: Keys, r: random.Random) -> str:
        value = {
            "genre": k.genres.draw,
            "track_id": k.tracks.draw,
            "user_id": k.users.draw,
            "period": _period,
        }[key](r)
        return f"{KPIS}{table}?{key}={value}&{k.window(r)}"

    return path


def _period(rng: random.Random) -> str:
    return rng.choices(("day", "week", "month"), weights=(5, 3, 2))[0]


LOOKUPS = (
    Pattern(11, "/v1/songs/{track_id}", 25, lambda k, r: f"/v1/songs/{k.tracks.draw(r)}"),
    Pattern(12, "/v1/users/{user_id}", 20, lambda k, r: f"/v1/users/{k.users.draw(r)}"),
    Pattern(3, "top_songs_daily?date&genre", 12, _on_date("top_songs_daily", genre=True)),
    Pattern(3, "top_songs_daily?date", 3, _on_date("top_songs_daily")),
    Pattern(4, "top_genres_daily?date", 10, _on_date("top_genres_daily")),
    Pattern(7, "top_artists_daily?date", 10, _on_date("top_artists_daily")),
    Pattern(1, "genre_daily?date", 7, _on_date("genre_daily")),
    Pattern(6, "country_daily?date", 7, _on_date("country_daily")),
    Pattern(9, "hourly_activity?date", 6, _on_date("hourly_activity")),
)
RANGES = (
    Pattern(5, "track_daily?track_id&from&to", 35, _over_range("track_daily", "track_id")),
    Pattern(8, "user_daily?user_id&from&to", 35, _over_range("user_daily", "user_id")),
    Pattern(2, "genre_daily?genre&from&to", 20, _over_range("genre_daily", "genre")),
    Pattern(10, "active_listeners?period&from&to", 10, _over_range("active_listeners", "period")),
)
MIX = {"lookups": LOOKUPS, "ranges": RANGES}


def read_keys(lake: Path) -> Keys:
    """Loaded dates, and genres, tracks and users weighted by their plays, from the store."""
    uri = f"{(lake / layout.SQLITE_STORE).resolve().as_uri()}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        dates = [dt.date.fromisoformat(d) for (d,) in con.execute(_DATES)]
        picks = [_weighted(con, table, key) for table, key in _PLAYS]
    finally:
        con.close()
    if not dates or not all(p.values for p in picks):
        raise RuntimeError(f"no KPIs loaded in {lake}")
    return Keys(dates, *picks)


_DATES = "select report_date from loaded_dates order by report_date"
_PLAYS = (("genre_daily", "genre"), ("track_daily", "track_id"), ("user_daily", "user_id"))


def _weighted(con: sqlite3.Connection, table: str, key: str) -> Weighted:
    rows = con.execute(
        f"select {key}, sum(listen_count) from {table} group by {key} order by {key}"
    ).fetchall()
    cum, total = [], 0.0
    for _, plays in rows:
        total += plays
        cum.append(total)
    return Weighted([str(k) for k, _ in rows], cum)


def write_paths(keys: Keys, folder: Path, lookups: int, seed: int = 1) -> dict[str, Path]:
    """One file of request paths per class (``lookups`` lines, half as many ranges), drawn
    in mix proportions and shuffled; the same ``seed`` gives the same files."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, count in (("lookups", lookups), ("ranges", max(1, lookups // 2))):
        rng = random.Random(f"{seed}-{name}")
        patterns = MIX[name]
        chosen = rng.choices(patterns, weights=[p.share for p in patterns], k=count)
        files[name] = folder / f"{name}.paths"
        files[name].write_text("".join(p.path(keys, rng) + "\n" for p in chosen))
    return files
