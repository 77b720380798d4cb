"""The process table helpers the cancel watcher and the worker pool rely on, against real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from sandboxes.processes import children, kill_session, session_members

# A session leader whose child moves to a process group of its own, as Pulumi's plugins do.
LEADER = """
import os, subprocess, sys, time
subprocess.Popen([sys.executable, "-c", "import os, time; os.setpgid(0, 0); time.sleep(60)"])
time.sleep(60)
"""


def test_children_are_the_direct_children_by_name() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert (child.pid, "sleep") in children(os.getpid())
    finally:
        child.kill()
        child.wait()
    assert (child.pid, "sleep") not in children(os.getpid())


def test_a_whole_session_is_killed_even_the_members_in_their_own_groups() -> None:
    leader = subprocess.Popen([sys.executable, "-c", LEADER], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(session_members(leader.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        members = session_members(leader.pid)
        assert leader.pid in members and len(members) == 2, members
        os.killpg(leader.pid, 9)  # the leader's group only: the other member lives on
        leader.wait()
        assert len(session_members(leader.pid)) == 1
        assert len(kill_session(leader.pid)) == 1
        deadline = time.monotonic() + 5
        while session_members(leader.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session_members(leader.pid) == []
    finally:
        kill_session(leader.pid)
