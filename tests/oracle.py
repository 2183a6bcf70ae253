"""An independent, plain-Python statement of SPEC §3, to check the SQL against.

Input: kept events (user_id, track_id, listen_time as an aware UTC datetime, ms_played or
None), songs {track_id: {...}} and users {user_id: {...}} (``created_at`` optional: a
datetime, ISO text or a bare date). Output: every KPI table as rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

Event = tuple[str, str, datetime, int | None]


def kpis(
    events: list[Event],
    songs: dict[str, dict[str, Any]],
    users: dict[str, dict[str, Any]],
    top: tuple[int, int, int] = (3, 5, 10),
) -> dict[str, list[dict[str, Any]]]:
    rows = []
    for user_id, track_id, ts, ms in events:
        s = songs[track_id]
        country = (users[user_id].get("user_country") or "").strip() or "Unknown"
        rows.append(
            {
                "report_date": ts.date().isoformat(),
                "day": ts.date(),
                "hour": ts.hour,
                "user_id": user_id,
                "track_id": track_id,
                "genre": s["track_genre"],
                "country": country,
                "track_name": s["track_name"],
                "artists": s["artists"],
                "listen_ms": ms if ms is not None else s["duration_ms"],
            }
        )
    return {
        "genre_daily": _genre_daily(rows),
        "top_songs_daily": _top_songs(rows, top[0]),
        "top_genres_daily": _top_genres(rows, top[1]),
        "track_daily": _track_daily(rows),
        "country_daily": _country_daily(rows),
        "top_artists_daily": _top_artists(rows, songs, top[2]),
        "user_daily": _user_daily(rows),
        "hourly_activity": _hourly(rows),
        "active_listeners": _active(rows, users),
    }


def _groups(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[tuple(r[k] for k in keys)].append(r)
    return out


def _stats(group: list[dict[str, Any]]) -> dict[str, Any]:
    total = sum(r["listen_ms"] for r in group)
    users = len({r["user_id"] for r in group})
    return {
        "listen_count": len(group),
        "unique_listeners": users,
        "total_listening_ms": total,
        "avg_listening_ms_per_stream": total / len(group),
        "avg_listening_ms_per_user": total / users,
    }


def _genre_daily(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"report_date": d, "genre": g, **_stats(grp)}
        for (d, g), grp in _groups(rows, "report_date", "genre").items()
    ]


def _ranked(items: list[dict[str, Any]], name: str, n: int) -> list[dict[str, Any]]:
    items.sort(key=lambda r: (-r["listen_count"], -r["unique_listeners"], r[name]))
    return [{**r, "rank": i + 1} for i, r in enumerate(items[:n])]


def _pick(stats: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: stats[k] for k in names}


def _top_songs(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    out = []
    for (d, g), grp in _groups(rows, "report_date", "genre").items():
        tracks = [
            {
                "report_date": d,
                "genre": g,
                "track_id": t,
                "track_name": tg[0]["track_name"],
                "artists": tg[0]["artists"],
                **_pick(_stats(tg), "listen_count", "unique_listeners"),
            }
            for (t,), tg in _groups(grp, "track_id").items()
        ]
        out += _ranked(tracks, "track_id", n)
    return out


def _top_genres(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    out = []
    for (d,), grp in _groups(rows, "report_date").items():
        genres = [
            {
                "report_date": d,
                "genre": g,
                **_pick(_stats(gg), "listen_count", "unique_listeners", "total_listening_ms"),
            }
            for (g,), gg in _groups(grp, "genre").items()
        ]
        out += _ranked(genres, "genre", n)
    return out


def _track_daily(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for (t, d), grp in _groups(rows, "track_id", "report_date").items():
        s = _stats(grp)
        out.append(
            {
                "track_id": t,
                "report_date": d,
                "track_name": grp[0]["track_name"],
                "artists": grp[0]["artists"],
                "genre": grp[0]["genre"],
                **_pick(
                    s,
                    "listen_count",
                    "unique_listeners",
                    "total_listening_ms",
                    "avg_listening_ms_per_user",
                ),
            }
        )
    return out


def _country_daily(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "report_date": d,
            "country": c,
            **_pick(_stats(g), "listen_count", "unique_listeners", "total_listening_ms"),
        }
        for (d, c), g in _groups(rows, "report_date", "country").items()
    ]


def _top_artists(
    rows: list[dict[str, Any]], songs: dict[str, dict[str, Any]], n: int
) -> list[dict[str, Any]]:
    credited = []
    for r in rows:
        names = {a.strip() for a in (songs[r["track_id"]]["artists"] or "").split(";")} - {""}
        credited += [{**r, "artist": a} for a in names]
    out = []
    for (d,), grp in _groups(credited, "report_date").items():
        artists = [
            {"report_date": d, "artist": a, **_pick(_stats(ag), "listen_count", "unique_listeners")}
            for (a,), ag in _groups(grp, "artist").items()
        ]
        out += _ranked(artists, "artist", n)
    return out


def _user_daily(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for (u, d), grp in _groups(rows, "user_id", "report_date").items():
        genres = [
            (len(gg), sum(r["listen_ms"] for r in gg), g)
            for (g,), gg in _groups(grp, "genre").items()
        ]
        top = min(genres, key=lambda x: (-x[0], -x[1], x[2]))[2]
        out.append(
            {
                "user_id": u,
                "report_date": d,
                "listen_count": len(grp),
                "unique_tracks": len({r["track_id"] for r in grp}),
                "total_listening_ms": sum(r["listen_ms"] for r in grp),
                "top_genre": top,
            }
        )
    return out


def _hourly(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "report_date": d,
            "hour": h,
            **_pick(_stats(g), "listen_count", "unique_listeners", "total_listening_ms"),
        }
        for (d, h), g in _groups(rows, "report_date", "hour").items()
    ]


def _created(user: dict[str, Any]) -> date | None:
    value = user.get("created_at")
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.date() if isinstance(value, datetime) else value


def _periods(day: date) -> list[tuple[str, date, date]]:
    monday = day - timedelta(days=day.weekday())
    first = day.replace(day=1)
    last = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    ) - timedelta(days=1)
    return [("day", day, day), ("week", monday, monday + timedelta(days=6)), ("month", first, last)]


def _active(rows: list[dict[str, Any]], users: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every period one of the events falls in, from all events of the period."""
    spans: dict[tuple[str, date, date], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        for period in _periods(r["day"]):
            spans[period].append(r)
    out = []
    for (kind, start, end), grp in spans.items():
        listeners = {r["user_id"] for r in grp}
        created = {u: _created(users[u]) for u in listeners}
        out.append(
            {
                "period": kind,
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "listeners": len(listeners),
                "new_listeners": sum(1 for c in created.values() if c and start <= c <= end),
                "listen_count": len(grp),
                "total_listening_ms": sum(r["listen_ms"] for r in grp),
            }
        )
    return out
