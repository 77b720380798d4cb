"""The node's bridge: created before the kubelet, marked as ours, removed with everything on it."""

from __future__ import annotations

from pathlib import Path

from sandboxes.cluster.realnode.base import BRIDGE, GATEWAY
from sandboxes.cluster.realnode.host import _run
from sandboxes.cluster.realnode.preflight import _bridge_alias

# --- network ------------------------------------------------------------------------------


def _bridge_exists() -> bool:
    return Path(f"/sys/class/net/{BRIDGE}").exists()


def _own_bridge() -> bool:
    try:
        return Path(f"/sys/class/net/{BRIDGE}/ifalias").read_text().strip() == _bridge_alias()
    except OSError:
        return False


def _ensure_bridge() -> None:
    if not _bridge_exists():
        _run(["ip", "link", "add", BRIDGE, "type", "bridge"])
        _run(["ip", "link", "set", BRIDGE, "alias", _bridge_alias()])
    addrs = _run(["ip", "-4", "-o", "addr", "show", "dev", BRIDGE]).stdout
    if f"{GATEWAY}/" not in addrs:
        _run(["ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE])
    _run(["ip", "link", "set", BRIDGE, "up"])


def _remove_network() -> list[str]:
    done: list[str] = []
    if _bridge_exists() and _own_bridge():
        ports = _run(["ip", "-o", "link", "show", "master", BRIDGE], check=False).stdout
        for line in ports.splitlines():
            name = line.split(":")[1].strip().split("@")[0]
            _run(["ip", "link", "delete", name], check=False)
            done.append(f"veth {name}")
        _run(["ip", "link", "delete", BRIDGE], check=False)
        done.append(f"bridge {BRIDGE}")
    return done


