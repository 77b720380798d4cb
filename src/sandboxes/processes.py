"""Whether a process is really alive: the one check every pid file and lock of the project uses.

A killed process whose parent died too can stay a zombie for good where PID 1 does not
reap (as in some containers and VMs): ``kill(pid, 0)`` still succeeds, yet nothing runs.
A zombie therefore counts as dead.
"""

from __future__ import annotations

import os
from pathlib import Path


def process_state(pid: int) -> str | None:
    """The kernel's one-letter state (``R``, ``S``, ``Z``…), or None when unknown (not Linux)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def process_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, not ours to judge further
    return process_state(pid) not in ("Z", "X")


def children(pid: int) -> list[tuple[int, str]]:
    """``(pid, command name)`` of the live direct children of ``pid`` (empty where there is no ``/proc``)."""
    found: list[tuple[int, str]] = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, _, rest = stat.partition("(")[2].rpartition(")")
        fields = rest.split()
        if len(fields) >= 2 and fields[1] == str(pid) and fields[0] not in ("Z", "X"):
            found.append((int(entry.name), name))
    return found


def session_members(sid: int) -> list[int]:
    """Live processes of the session ``sid`` (its leader included): a worker and everything it started."""
    found: list[int] = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the command name: state, ppid, pgrp, session
        if len(fields) >= 4 and fields[3] == str(sid) and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def kill_session(sid: int) -> list[int]:
    """SIGKILL what is left of session ``sid``: plugins run in their own process groups, so killpg misses them."""
    import signal

    killed: list[int] = []
    for pid in session_members(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.append(pid)
    return killed
