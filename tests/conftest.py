"""Shared fixtures: tiny landing zones written by hand, runs on a temp lake, readers.

The tests mirror ``src/musicstream/``. Fixtures of a backend that several folders need are
plugins registered here once, so each session-scoped one starts once per session: the local
AWS (aws_local.py) and the SparkSession (spark_local.py).

The suite runs on every core with pytest-xdist (pyproject.toml: ``-n auto --dist
loadgroup``). Each worker is a session of its own, so session-scoped fixtures start once per
worker; what must not be duplicated or split is kept on one worker by ``xdist_group``: all
Spark tests (one JVM), all Airflow tests, and the tests of a module that share a
module-scoped fixture (see :func:`pytest_collection_modifyitems`).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from musicstream import pipeline
from musicstream.settings import Settings, load_settings

pytest_plugins = ["aws_local", "spark_local"]

# Tests land whole files right before they run: nothing is in flight unless a test says so
# (tests of settling set settle_s themselves). Subprocesses inherit it.
os.environ.setdefault("MUSICSTREAM_SETTLE_S", "0")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """With ``-p no:xdist`` the options pyproject.toml's addopts gives xdist (``-n``,
    ``--dist``) are accepted and ignored, so that also runs the tests in this process."""
    if not pluginmanager.has_plugin("xdist"):
        group = parser.getgroup("xdist", "pytest-xdist disabled (-p no:xdist): ignored")
        group._addoption("-n", "--numprocesses", dest="numprocesses", default=None)  # as xdist
        group.addoption("--dist", dest="dist", default="no")


def _usable_cpus() -> int:
    """The CPUs this process may run on: its affinity, and a cgroup CPU quota (containers)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    for path, parse in (
        ("/sys/fs/cgroup/cpu.max", lambda t: t.split()),  # cgroup v2: "quota period"
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", lambda t: [t.strip(), "100000"]),  # v1
    ):
        try:
            quota, period = parse(Path(path).read_text())
            if path.endswith("quota_us"):
                period = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text().strip()
        except (OSError, ValueError):
            continue
        if quota not in ("max", "-1") and int(period) > 0:
            cpus = min(cpus, max(1, int(quota) // int(period)))
    return cpus


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown with -p no:xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker per CPU this process may use (not the host's count, which
    psutil reports in a container), unless PYTEST_XDIST_AUTO_NUM_WORKERS says otherwise."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return _usable_cpus()


def _uses_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        d.scope in ("module", "class", "package")
        for defs in info.name2fixturedefs.values()
        for d in defs
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup``, each test is scheduled on its own, except tests in an
    ``xdist_group``: the Spark folders' (their conftest.py, tests/spark_local.py) and the
    Airflow tests' (tests/jobs/airflow/airflow_env.py) mark themselves; here every test of
    a module that uses a module- or class-scoped fixture goes in the module's group, so
    that fixture (a generated lake, running servers, a browser) is built on one worker
    only. Runs before xdist's hook reads the groups (tryfirst), after the Spark folders'
    (tryfirst too, and registered later); mark_spark also replaces a group set here.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is None and _uses_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


class _GroupIds:
    """What xdist's worker does to a test in an ``xdist_group`` under ``--dist loadgroup``:
    its node id gets ``@<group>``, and the controller schedules by that suffix. pytest 9.2
    keeps a node's id in ``_id``, so xdist 3.8's assignment to ``_nodeid`` has no effect and
    every group is silently ignored (pytest-xdist issue #1386); this sets the id itself,
    after xdist's hook (trylast). A no-op once xdist's own suffix is there."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from _pytest.nodeid import NodeId

        for item in items:
            marks = item.iter_markers("xdist_group")
            names = {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in marks}
            suffix = "@" + "_".join(sorted(names))
            if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
                item._id = NodeId.parse(item.nodeid + suffix)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") and config.getvalue("loadgroup"):
        config.pluginmanager.register(_GroupIds(), "musicstream-xdist-group-ids")


SONG_HEADER = [
    "",
    "track_id",
    "artists",
    "album_name",
    "track_name",
    "popularity",
    "duration_ms",
    "explicit",
    "danceability",
    "track_genre",
]
USER_HEADER = ["user_id", "user_name", "user_age", "user_country", "created_at"]
STREAM_HEADER = ["user_id", "track_id", "listen_time", "ms_played"]


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m musicstream ARGS`` as a user runs it, with ``env`` over ours."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "musicstream", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=full_env,
        cwd=cwd,
    )


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def song(
    i: int,
    track_id: str,
    genre: str,
    duration: int = 200_000,
    artists: str = "A",
    name: str | None = None,
    popularity: Any = 50,
    explicit: Any = "False",
) -> list[Any]:
    """A row in the Spotify Tracks layout (index column and an audio feature included)."""
    return [
        i,
        track_id,
        artists,
        "Album",
        name or f"Song {track_id}",
        popularity,
        duration,
        explicit,
        0.5,
        genre,
    ]


class Landing:
    """Writes CSV files into ``<lake>/landing/<dataset>/``."""

    def __init__(self, lake: Path) -> None:
        self.lake = lake

    def write(
        self,
        dataset: str,
        name: str,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        bom: bool = False,
        gz: bool = False,
        raw: str | None = None,
    ) -> Path:
        folder = self.lake / "landing" / dataset
        folder.mkdir(parents=True, exist_ok=True)
        text = raw if raw is not None else csv_text(header, rows)
        data = (("\ufeff" if bom else "") + text).encode("utf-8")
        path = folder / name
        path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
        return path

    def songs(self, rows: Sequence[Sequence[Any]], name: str = "songs.csv", **kw: Any) -> Path:
        return self.write("songs", name, SONG_HEADER, rows, **kw)

    def users(self, rows: Sequence[Sequence[Any]], name: str = "users.csv", **kw: Any) -> Path:
        return self.write("users", name, USER_HEADER, rows, **kw)

    def streams(
        self,
        rows: Sequence[Sequence[Any]],
        name: str = "streams.csv",
        header: Sequence[str] = STREAM_HEADER,
        **kw: Any,
    ) -> Path:
        return self.write("streams", name, header, rows, **kw)


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """Each test starts and ends with the root logger as it was: a CLI test's logging setup
    leaves a handler on a stream the test runner then closes, and a later test's log records
    would go to it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    path = tmp_path / "lake"
    path.mkdir()
    return path


@pytest.fixture
def landing(lake: Path) -> Landing:
    return Landing(lake)


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    def make(lake: Path, **overrides: Any) -> Settings:
        return load_settings(lake=str(lake), progress=False, **overrides)

    return make


@pytest.fixture
def run(settings_for: Callable[..., Settings]) -> Callable[..., dict[str, Any]]:
    """Run the pipeline once on a lake; returns the run summary."""

    def go(lake: Path, **overrides: Any) -> dict[str, Any]:
        return pipeline.run(settings_for(lake, **overrides))

    return go


def read_table(lake: Path, table: str) -> list[dict[str, Any]]:
    """All rows of a KPI table from the lake's Parquet, its partition keys (report_date;
    period, period_start) taken from the path."""
    rows = []
    base = lake / "kpis" / table
    for part in sorted(base.rglob("*.parquet")):
        keys = dict(p.split("=", 1) for p in part.relative_to(base).parent.parts)
        for row in pq.read_table(part).to_pylist():
            rows.append({**keys, **row})
    return rows


def read_quarantine(lake: Path, dataset: str) -> list[dict[str, Any]]:
    rows = []
    for part in sorted((lake / "quarantine" / dataset).glob("batch_id=*/*.parquet")):
        rows += pq.read_table(part).to_pylist()
    return rows


def read_curated_streams(lake: Path) -> list[dict[str, Any]]:
    rows = []
    for part in sorted((lake / "curated" / "streams").glob("report_date=*/*.parquet")):
        for row in pq.read_table(part).to_pylist():
            rows.append({"report_date": part.parent.name.split("=", 1)[1], **row})
    return rows


def land_first(landing: Landing) -> None:
    """A first batch: two songs, two users, three streams (one of an unknown user)."""
    landing.songs([song(0, "t1", "pop", 1000, "A;B"), song(1, "t2", "rock", 2000, "B")])
    landing.users([["u1", "a", 30, "US", ""], ["u2", "b", 30, "FR", ""]])
    landing.streams(
        [
            ["u1", "t1", "2026-01-02 10:00:00", ""],
            ["u2", "t2", "2026-01-03 10:00:00", 5],
            ["ghost", "t2", "2026-01-03 11:00:00", 5],
        ],
        name="a.csv",
    )
