"""The floor: a bare DuckDB typed scan of the streams CSVs into a table, nothing else.

``python -m bench.floor THREADS FILE...``. The types are the ones a run must end up with
(listen_time is an instant: TIMESTAMPTZ parses the ``Z`` and offset forms correctly); no
validation, no lake, no KPIs. Whatever musicstream does beyond this is its overhead.
"""

from __future__ import annotations

import sys

import duckdb

COLUMNS = {
    "user_id": "VARCHAR",
    "track_id": "VARCHAR",
    "listen_time": "TIMESTAMPTZ",
    "ms_played": "BIGINT",
}


def main(argv: list[str]) -> None:
    threads, files = int(argv[0]), argv[1:]
    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    con.execute("set TimeZone = 'UTC'")
    cols = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items())
    con.execute(
        f"create table streams as select * from read_csv({files!r}, header = true, "
        f"columns = {{{cols}}})"
    )
    rows = con.execute("select count(*) from streams").fetchone()
    print(f"floor: {rows[0] if rows else 0} rows")


if __name__ == "__main__":
    main(sys.argv[1:])
