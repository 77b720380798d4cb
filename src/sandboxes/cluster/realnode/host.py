"""Where the node's files live, and starting, stopping and waiting for its host processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sandboxes.cluster.realnode.base import NODE_NAME, RealNodeError
from sandboxes.paths import toolchain_bin_dir
from sandboxes.processes import process_alive

# --- paths --------------------------------------------------------------------------------


def node_dir() -> Path:
    from sandboxes.cluster.embedded import cluster_dir

    return cluster_dir() / "node"


def _kwok_pki() -> Path:
    from sandboxes.cluster.embedded import CLUSTER_NAME, cluster_dir

    return cluster_dir() / "kwok" / "clusters" / CLUSTER_NAME / "pki"


def containerd_socket() -> Path:
    return node_dir() / "containerd" / "containerd.sock"


def _pid_file(name: str) -> Path:
    return node_dir() / "pids" / f"{name}.pid"


def _log_file(name: str) -> Path:
    return node_dir() / "logs" / f"{name}.log"


def _bin(name: str) -> str:
    return str(toolchain_bin_dir() / name)


# --- small helpers ------------------------------------------------------------------------


def _run(cmd: Sequence[str], check: bool = True, timeout: float = 120, env: dict[str, str] | None = None,
         input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    log = node_dir() / "logs" / "commands.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False, env=env,
                          input=input_text)
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}(exit {proc.returncode})\n")
    if check and proc.returncode != 0:
        raise RealNodeError(f"{' '.join(cmd[:4])} failed (exit {proc.returncode}): "
                            f"{(proc.stderr or proc.stdout).strip()[:400]}")
    return proc


def _pid(name: str) -> int | None:
    try:
        return int(_pid_file(name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(name: str) -> bool:
    pid = _pid(name)
    if pid is None:
        return False
    if not process_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return False
    return Path(cmdline).name == Path(_binary_of(name)).name


def _binary_of(name: str) -> str:
    return "containerd" if name == "containerd" else name


def _start(name: str, cmd: Sequence[str]) -> int:
    log = _log_file(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as handle:
        handle.write(f"\n$ {' '.join(cmd)}\n")
        handle.flush()
        proc = subprocess.Popen(list(cmd), stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=str(node_dir()))
    _pid_file(name).write_text(f"{proc.pid}\n")
    return proc.pid


def _stop(name: str, timeout: float = 10) -> None:
    pid = _pid(name)
    if pid is not None and _alive(name):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(name):
            time.sleep(0.1)
        if _alive(name):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        with contextlib.suppress(OSError):  # reap if it is our child
            os.waitpid(pid, os.WNOHANG)
    _pid_file(name).unlink(missing_ok=True)


def _log_tail(name: str, lines: int = 8) -> str:
    try:
        text = _log_file(name).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line[:300] for line in text[-lines:])


def _wait(what: str, check: Callable[[], bool], timeout: float, process: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process and not _alive(process):
            raise RealNodeError(f"{process} exited while waiting for {what}; log {_log_file(process)}:\n"
                                f"{_log_tail(process)}")
        time.sleep(0.2)
    raise RealNodeError(f"timed out after {timeout:.0f}s waiting for {what}"
                        + (f"; log {_log_file(process)}:\n{_log_tail(process)}" if process else ""))


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _kubectl(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    from sandboxes.cluster.embedded import ClusterError, kubectl

    try:
        return kubectl(*args, check=check, timeout=timeout)
    except ClusterError as err:
        raise RealNodeError(str(err)) from err


def _node_conditions() -> dict[str, str] | None:
    proc = _kubectl("get", "node", NODE_NAME, "-o", "json", check=False, timeout=10)
    if proc.returncode != 0:
        return None
    node = json.loads(proc.stdout)
    return {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
