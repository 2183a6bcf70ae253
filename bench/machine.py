"""Facts about the machine and the software a benchmark ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = ("musicstream", "duckdb", "pyarrow", "pandas", "pyspark", "psutil")
BUSY_LOAD = 0.5  # a 1-minute load average above this at the start: someone else is working


def facts() -> dict[str, str]:
    """CPU model, cores, RAM, OS and the load at the time of the call."""
    load = os.getloadavg()
    return {
        "cpu": _cpu_model(),
        "cores (nproc)": str(os.cpu_count()),
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "load average at start": f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)",
    }


def versions() -> dict[str, str]:
    """Python, the packages that matter here, Java and the source revision."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out["java"] = _java()
    if os.environ.get("PYTHONPATH"):
        out["PYTHONPATH"] = os.environ["PYTHONPATH"]
    out["revision"] = _revision()
    return out


def busy(load_1min: float) -> bool:
    return load_1min > BUSY_LOAD


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _java() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    lines = (done.stderr or done.stdout).splitlines()
    return lines[0].strip() if lines else "unknown"


OUTPUTS = (":!BENCHMARKS.md", ":!bench/benchmarks.png")  # pathspecs of what the harness writes


def _revision() -> str:
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
        dirty = subprocess.run(
            # Code only: the report and chart a previous run left are not a code change.
            ["git", "status", "--porcelain", "--", ".", *OUTPUTS],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if not head:
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head
