"""Scratch folders named by the process that made them, so a later run can tell a killed
run's leftovers (its process is gone) from a live run's work and remove them.

A name is ``<pid>-<random>``. Only folders of this host's dead processes are removed, and
folders named before this scheme (a bare random hex name) once they are a day old: a live
process of an older version could still be using a younger one.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid

OLD_NAMES_AFTER_S = 24 * 3600


def scratch_name() -> str:
    return f"{os.getpid()}-{uuid.uuid4().hex}"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host exists (another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def sweep(parent: str, prefix: str = "") -> list[str]:
    """Remove the folders under ``parent`` (named ``prefix`` + a scratch name) of dead
    processes; the paths removed."""
    try:
        names = os.listdir(parent)
    except FileNotFoundError:
        return []
    removed = []
    for name in names:
        if name.startswith(prefix) and _abandoned(os.path.join(parent, name), name[len(prefix) :]):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
            removed.append(os.path.join(parent, name))
    return removed


def _abandoned(path: str, name: str) -> bool:
    pid, _, rest = name.partition("-")
    if pid.isdigit() and rest:
        return int(pid) != os.getpid() and not pid_alive(int(pid))
    if len(name) == 32 and all(c in "0123456789abcdef" for c in name):  # uuid4().hex: old
        try:
            return time.time() - os.stat(path).st_mtime > OLD_NAMES_AFTER_S
        except FileNotFoundError:
            return False
    return False
