"""Benchmark sizes: ``10M`` is 10M streams over 30 days, 114k songs and 1M users.

Other sizes scale songs and users in proportion (songs capped at 114k, the size of the
public Spotify Tracks file the generator imitates); the increment is 100k streams on one day.

The data (``musicstream.generate``, clean) is listening sessions at a third of a stream per
user and day: on a day ~3% of the users listen, ~11 streams each (median 8; ~29k
``user_daily`` rows a day at 10M); ~30% of the users listen at all in the 30 days, a few of
them daily. A session plays tracks back to back, mostly in one genre. Streams peak at 20-22
UTC and bottom out at 4-5; weekends start later and run later into the night. Genres, and
tracks within a genre, are Zipf-popular: at 10M the top track takes ~2% of its genre's plays
(~6% at 1M, with 100 songs a genre). 44% of the users sign up during the window (so every
day, week and month has new listeners), 49% before it, 4% just after, 3% leave created_at
empty.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_STREAMS = 10_000_000
BASE_SONGS = 114_000
BASE_USERS = 1_000_000
DAYS = 30
INCREMENT_STREAMS = 100_000
_SUFFIXES = {"k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Scale:
    """One generated dataset: how many rows of each kind."""

    streams: int
    songs: int
    users: int
    days: int = DAYS

    @property
    def label(self) -> str:
        return format_count(self.streams)

    @property
    def increment(self) -> int:
        """Streams in the one-day incremental batch (100k, fewer on tiny scales)."""
        return min(INCREMENT_STREAMS, max(10, self.streams // 10))


def parse_scale(text: str) -> Scale:
    """``1M``, ``10m``, ``300k`` or ``20000`` → a Scale with proportional songs and users."""
    streams = parse_count(text)
    ratio = streams / BASE_STREAMS
    songs = max(100, min(BASE_SONGS, round(BASE_SONGS * ratio)))
    users = max(100, round(BASE_USERS * ratio))
    return Scale(streams=streams, songs=songs, users=users)


def parse_count(text: str) -> int:
    """``1M`` → 1_000_000; ``2.5k`` → 2500; plain integers as they are."""
    raw = text.strip().lower().replace("_", "")
    factor = _SUFFIXES.get(raw[-1:], 1)
    number = raw[:-1] if factor > 1 else raw
    try:
        value = round(float(number) * factor)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 1M, 300k, 20000)") from None
    if value < 100:
        raise ValueError(f"a benchmark needs at least 100 streams, not {text!r}")
    return value


def format_count(n: int) -> str:
    """1_000_000 → ``1M``, 20_000 → ``20k``, 1_500_000 → ``1.5M``."""
    for suffix, factor in (("M", 1_000_000), ("k", 1_000)):
        if n >= factor:
            return f"{n / factor:g}{suffix}"
    return str(n)
