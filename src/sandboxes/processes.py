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


def _process_table() -> list[tuple[int, str, list[str]]]:
    """``(pid, command name, the stat fields after it)`` of every process (empty where there is no ``/proc``)."""
    table: list[tuple[int, str, list[str]]] = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, _, rest = stat.partition("(")[2].rpartition(")")
        table.append((int(entry.name), name, rest.split()))
    return table


# Fields after the command name in /proc/<pid>/stat: state, ppid, pgrp, session, ...
_STATE, _PPID, _SESSION = 0, 1, 3


def children(pid: int) -> list[tuple[int, str]]:
    """``(pid, command name)`` of the live direct children of ``pid``."""
    return [(child, name) for child, name, fields in _process_table()
            if len(fields) > _PPID and fields[_PPID] == str(pid) and fields[_STATE] not in ("Z", "X")]


def session_members(sid: int) -> list[int]:
    """Live processes of the session ``sid`` (its leader included): a worker and everything it started."""
    return [pid for pid, _name, fields in _process_table()
            if len(fields) > _SESSION and fields[_SESSION] == str(sid) and fields[_STATE] not in ("Z", "X")]


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
