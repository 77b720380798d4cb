"""What ``down`` removes besides processes: mounts, pod cgroups, containerd shims, the drained Node."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from sandboxes.cluster.realnode.base import CGROUP_ROOT, NODE_NAME, Progress
from sandboxes.cluster.realnode.host import _alive, _kubectl, _node_conditions, containerd_socket
from sandboxes.cluster.realnode.images import ctr

# --- down ---------------------------------------------------------------------------------


def _mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve()) + "/"
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        mount_point = line.split()[4].encode().decode("unicode_escape")
        if mount_point.startswith(prefix) or mount_point == prefix.rstrip("/"):
            found.append(mount_point)
    return sorted(set(found), key=lambda m: m.count("/"), reverse=True)


def _cgroup_dirs() -> list[Path]:
    base = Path("/sys/fs/cgroup")
    dirs = [base / CGROUP_ROOT] if (base / "cgroup.controllers").exists() else [
        c / CGROUP_ROOT for c in base.iterdir() if (c / CGROUP_ROOT).is_dir()
    ]
    return [d for d in dirs if d.is_dir()]


def _ensure_cgroup_root() -> None:
    """The kubelet's cgroupRoot (/sandboxes-node) in every hierarchy: the kubelet wants it to exist."""
    base = Path("/sys/fs/cgroup")
    if (base / "cgroup.controllers").exists():
        (base / CGROUP_ROOT).mkdir(exist_ok=True)
        return
    for hierarchy in sorted(p for p in base.iterdir() if p.is_dir() and (p / "cgroup.procs").exists()):
        target = hierarchy / CGROUP_ROOT
        target.mkdir(exist_ok=True)
        if hierarchy.name == "cpuset":
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if not (target / knob).read_text().strip():
                    (target / knob).write_text((hierarchy / knob).read_text())


def _kill_cgroup_processes() -> int:
    killed = 0
    for top in _cgroup_dirs():
        for procs in top.rglob("cgroup.procs"):
            try:
                pids = [int(x) for x in procs.read_text().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
    return killed


def _remove_cgroups() -> int:
    removed = 0
    for top in _cgroup_dirs():
        for d in sorted([p for p in top.rglob("*") if p.is_dir()] + [top], key=lambda p: len(p.parts),
                        reverse=True):
            try:
                d.rmdir()
                removed += 1
            except OSError:
                pass
    return removed


def _kill_shims() -> None:
    sock = str(containerd_socket())
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "containerd-shim" in cmdline and sock in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(proc_dir.name), signal.SIGKILL)


def _drain(say: Progress) -> None:
    """Remove the node's pods through the API so the kubelet tears their sandboxes (and CNI) down."""
    if _node_conditions() is None:
        return
    _kubectl("cordon", NODE_NAME, check=False, timeout=15)
    _kubectl("delete", "pods", "--all-namespaces", "--field-selector", f"spec.nodeName={NODE_NAME}",
             "--grace-period=0", "--force", "--wait=false", check=False, timeout=30)
    if _alive("kubelet") and _alive("containerd"):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            tasks = ctr("tasks", "ls", check=False).stdout.splitlines()[1:]
            if not [t for t in tasks if "RUNNING" in t]:
                break
            time.sleep(0.5)
    say(f"real node: pods removed from {NODE_NAME}")


