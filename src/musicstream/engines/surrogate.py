"""Integer surrogate keys of the dimensions (``datasets.SURROGATE_KEYS``).

A natural key gets its number when it first arrives: a batch's new keys take the next free
numbers after the snapshot's largest, in natural key order. So the numbering is the same on
every engine and for every retry of a batch, and a key keeps its number for good (a rejected
batch rolls the snapshot back, and its numbers with it: no kept stream holds them). Curated
streams carry the numbers of their user and song (validation joins the dimensions anyway),
so the KPI step joins and groups on integers and never touches a natural key but to name a
row.

A lake written before surrogate keys is upgraded once, on the first engine start: each
dimension numbered from 1 in key order, each curated stream file rewritten with its keys,
the dimensions written last. Every step is idempotent (a file already carrying keys is
left alone, the numbering is a pure function of the snapshot), so a crash midway is finished
by the next start.
"""

from __future__ import annotations

import logging
import os
import posixpath
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from musicstream import layout
from musicstream.datasets import BY_NAME, CURATED, DIMENSIONS, SURROGATE_KEYS
from musicstream.lake import Lake
from musicstream.sqltext import literal

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

log = logging.getLogger(__name__)


def new_keys(dataset: str) -> str:
    """The natural keys of this batch's clean ``dataset`` rows that the snapshot lacks, each
    once (both engines number these: ``new_keys_<dataset>``)."""
    key = BY_NAME[dataset].key
    return (
        f"select t_{key} as {key} from checked_{dataset} where reasons = '' "
        f"except select {key} from curated_{dataset}"
    )


def next_number(dataset: str) -> str:
    """The largest surrogate key of the snapshot (0 when empty): new keys count on from it."""
    return f"select coalesce(max({SURROGATE_KEYS[dataset]}), 0) as base from curated_{dataset}"


def _columns(lake: Lake, rel: str) -> list[str]:
    """The column names a lake Parquet file holds (its footer only, for a local lake)."""
    if lake.is_local:
        return pq.read_schema(lake.path(rel)).names
    return lake.parquet(rel).schema_arrow.names


def needs_upgrade(lake: Lake) -> bool:
    """Whether a dimension snapshot of the lake predates surrogate keys."""
    return any(
        lake.exists(layout.dimension(dim))
        and SURROGATE_KEYS[dim] not in _columns(lake, layout.dimension(dim))
        for dim in DIMENSIONS
    )


def upgrade(lake: Lake) -> None:
    """Give a lake written before surrogate keys its keys (see the module docstring). Runs
    under the run lock, before an engine reads the lake; does nothing on an upgraded lake."""
    if not needs_upgrade(lake):
        return
    import duckdb  # the embedded engine rewrites the files, whichever engine runs

    log.warning("upgrading %s: numbering the dimensions' surrogate keys (once)", lake.url)
    con = duckdb.connect()
    with ExitStack() as stack:
        stack.callback(con.close)
        tmp = stack.enter_context(lake.staging())
        con.execute("set TimeZone = 'UTC'")
        for dim in DIMENSIONS:
            _number(con, lake, dim, tmp)
        streams = [p for p in lake.files(layout.CURATED_STREAMS) if p.endswith(".parquet")]
        for rel in streams:
            if "user_sk" not in _columns(lake, rel):
                _rewrite_streams(con, lake, rel, tmp)
        for dim in DIMENSIONS:  # last: a snapshot with keys says the lake is upgraded
            if lake.exists(layout.dimension(dim)):
                key = BY_NAME[dim].key
                local = os.path.join(tmp, f"{dim}.parquet")
                query = f"select * from keyed_{dim} order by {key}"
                con.execute(f"copy ({query}) to {literal(local)} (format parquet)")
                lake.publish(local, layout.dimension(dim))
    log.warning("upgraded %s: %d curated stream file(s) carry the keys", lake.url, len(streams))


def _local(lake: Lake, rel: str, tmp: str) -> str:
    if lake.is_local:
        return lake.path(rel)
    return lake.fetch([rel], tmp)[0]


def _number(con: DuckDBPyConnection, lake: Lake, dim: str, tmp: str) -> None:
    """``keyed_<dim>``: the snapshot with its keys numbered from 1 in natural key order."""
    key, sk = BY_NAME[dim].key, SURROGATE_KEYS[dim]
    rel = layout.dimension(dim)
    con.execute(f"create or replace temp table keyed_{dim} ({CURATED[dim].ddl('duckdb')})")
    if lake.exists(rel):
        columns = ", ".join(name for name in CURATED[dim].names if name != sk)
        con.execute(
            f"insert into keyed_{dim} select {columns}, row_number() over (order by {key}) "
            f"from read_parquet({literal(_local(lake, rel, tmp))})"
        )


def _rewrite_streams(con: DuckDBPyConnection, lake: Lake, rel: str, tmp: str) -> None:
    """One curated stream file again, with the keys of its users and songs."""
    local = _local(lake, rel, tmp)
    out = os.path.join(tmp, "keyed-" + posixpath.basename(rel))
    con.execute(
        "copy (select s.user_id, s.track_id, s.listen_time, s.ms_played, s.batch_id, "
        "u.user_sk, g.track_sk from read_parquet("
        f"{literal(local)}) as s left join keyed_users as u on s.user_id = u.user_id "
        "left join keyed_songs as g on s.track_id = g.track_id) "
        f"to {literal(out)} (format parquet)"
    )
    lake.publish(out, rel)
