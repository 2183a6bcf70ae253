"""The read-API benchmark's lakes.

The base lake is the scale's generated history (``bench/data``) loaded by one ``musicstream
run``, exactly as ``make bench`` builds its DuckDB lake, and cached under
``bench/out/<scale>/api/base`` for the revision that built it. The restating batch comes from
the generator's increment (``musicstream.generate.increment``): 40% late streams spread over
the dates the lake has, 10% duplicates, the rest on the day after, plus a few dimension
changes; so the concurrent run replaces every loaded date and adds one. Each measured server
gets a fresh working copy of the base lake with that batch in its landing zone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench import data, measure
from bench.scale import Scale

REPO = Path(__file__).resolve().parent.parent
RUN_ENV = {
    "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    "MUSICSTREAM_PROGRESS": "false",
    "MUSICSTREAM_SETTLE_S": "0",  # the batch is complete when landed: take it at once
}
_DONE = ".complete"


def run_command(lake: Path, threads: int) -> list[str]:
    """``musicstream run`` on ``lake``, as the ``make bench`` cases run it."""
    return [
        sys.executable,
        "-m",
        "musicstream",
        "run",
        "--lake",
        str(lake),
        "--threads",
        str(threads),
    ]


def base_lake(
    scale: Scale,
    out: Path,
    data_root: Path,
    threads: int,
    say: Callable[[str], None],
    rebuild: bool = False,
) -> Path:
    """``out/<scale>/api/base/lake``: the history loaded, rebuilt when the committed source
    changed (or when asked: uncommitted changes do not count)."""
    folder = out.resolve() / scale.label / "api" / "base"  # the run's cwd is the folder
    lake, stamp, key = folder / "lake", folder / _DONE, _revision()
    if not rebuild and stamp.exists() and stamp.read_text() == key:
        return lake
    stamp.unlink(missing_ok=True)
    landing = data.landing(scale, data_root, threads)
    data.fresh_lake(lake, landing)
    say(f"[{scale.label}] building the base lake (musicstream run) …")
    result = measure.run(run_command(lake, threads), folder / "run.log", cwd=folder, env=RUN_ENV)
    if not result.ok:
        raise RuntimeError(f"the base lake's run failed: {result.error}")
    say(f"[{scale.label}] base lake: {result.wall_s:.1f}s wall, {result.cpu_s:.1f}s CPU")
    stamp.write_text(key)
    return lake


def restating_batch(scale: Scale, data_root: Path, threads: int) -> Path:
    """A landing folder (cached beside the scale's data) that restates every loaded date."""
    from musicstream.generate.increment import generate_increment

    landing = data.landing(scale, data_root, threads)
    out = landing.parent / f"restating-{scale.increment}"
    if not (out / _DONE).exists():
        shutil.rmtree(out, ignore_errors=True)
        generate_increment(out, landing, streams=scale.increment, threads=threads)
        (out / _DONE).write_text("generated\n")
    return out


def working_copy(base: Path, target: Path, batch: Path) -> Path:
    """A copy of ``base`` at ``target`` (the store is written in place: never a link) with
    ``batch`` landed, ready for the concurrent run."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    data.land(target, batch)
    return target


def _revision() -> str:
    """The committed source the base lake was built with: the tree of ``src`` at HEAD (a
    commit that leaves the package alone keeps the lake)."""
    done = subprocess.run(
        ["git", "rev-parse", "HEAD:src"], cwd=REPO, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"
