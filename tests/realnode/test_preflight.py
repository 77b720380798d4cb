"""Preflight of the real node, with a fake host: every missing piece is named, nothing is started."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from sandboxes.cluster import realnode
from sandboxes.cluster.realnode import HostProbe, Listener


class FakeHost(HostProbe):
    def __init__(self, **overrides: object) -> None:
        self.platform_name = "linux"
        self.uid = 0
        self.missing_cmds: set[str] = set()
        self.missing_paths: set[str] = set()
        self.files = {
            "/proc/sys/net/bridge/bridge-nf-call-iptables": "1\n",
            "/proc/sys/net/ipv4/ip_forward": "1\n",
            "/proc/filesystems": "nodev\tcgroup\nnodev\toverlay\n",
            "/sys/fs/cgroup/cgroup.controllers": "cpu memory pids io\n",
        }
        self.nft_ok = True
        self.taken: list[Listener] = []
        self.toolchain: set[str] = {"kubelet", "kube-proxy", "coredns", "traefik"}
        self.__dict__.update(overrides)

    def platform(self) -> str:
        return self.platform_name

    def euid(self) -> int:
        return self.uid

    def which(self, name: str) -> str | None:
        return None if name in self.missing_cmds else f"/usr/bin/{name}"

    def exists(self, path: str) -> bool:
        if path in self.missing_paths:
            return False
        return not path.startswith("/sys/class/net/")

    def read(self, path: str) -> str | None:
        return self.files.get(path)

    def run_ok(self, cmd: Sequence[str]) -> tuple[bool, str]:
        return (True, "") if self.nft_ok else (False, "Error: Could not process rule: Operation not supported")

    def listeners(self) -> list[Listener]:
        return self.taken

    def toolchain_has(self, binary: str) -> bool:
        return binary in self.toolchain


def test_a_complete_host_passes() -> None:
    assert realnode.preflight(FakeHost()) == []


def test_not_linux_says_so_and_nothing_else() -> None:
    problems = realnode.preflight(FakeHost(platform_name="darwin"))
    assert len(problems) == 1
    assert "needs Linux" in problems[0] and "darwin" in problems[0]


def test_not_root_is_a_clear_message() -> None:
    problems = realnode.preflight(FakeHost(uid=1000))
    assert len(problems) == 1
    assert "needs root" in problems[0]
    assert "sudo sandboxctl cluster up --real-node" in problems[0]


def test_missing_debian_packages_are_named() -> None:
    host = FakeHost(missing_cmds={"containerd", "ctr", "nft", "runc"},
                    missing_paths={"/usr/lib/cni/bridge", "/usr/lib/cni/portmap"})
    text = "\n".join(realnode.preflight(host))
    assert "Debian package containerd" in text
    assert "Debian package nftables" in text
    assert "Debian package runc" in text
    assert "Debian package containernetworking-plugins" in text and "/usr/lib/cni/bridge" in text


def test_missing_node_toolchain_says_make_toolchain_node() -> None:
    text = "\n".join(realnode.preflight(FakeHost(toolchain={"kubelet"})))
    assert "kube-proxy" in text and "coredns" in text and "make toolchain-node" in text


def test_kernel_features() -> None:
    host = FakeHost(missing_paths={"/sys/module/bridge", "/proc/sys/net/bridge"}, nft_ok=False)
    host.files.pop("/proc/sys/net/bridge/bridge-nf-call-iptables")
    host.files["/proc/sys/net/ipv4/ip_forward"] = "0\n"
    host.files["/proc/filesystems"] = "nodev\tcgroup\n"
    host.files["/sys/fs/cgroup/cgroup.controllers"] = "cpu io\n"
    text = "\n".join(realnode.preflight(host))
    assert "modprobe bridge" in text
    assert "modprobe br_netfilter" in text
    assert "ip_forward" in text
    assert "nf_tables" in text
    assert "modprobe overlay" in text
    assert "memory, pids" in text


def test_a_taken_port_is_named_with_its_owner() -> None:
    host = FakeHost(taken=[Listener("tcp", "0.0.0.0", realnode.KUBELET_PORT),
                           Listener("udp", realnode.GATEWAY, 53), Listener("tcp", "10.9.9.9", 10256)])
    problems = realnode.preflight(host)
    assert any("tcp/10250" in p and "kubelet" in p for p in problems)
    assert any("udp/53" in p and "coredns" in p for p in problems)
    assert not any("10256" in p for p in problems)  # another address: no conflict
    # ports of processes that are already running (not being started) are not checked
    assert realnode.preflight(host, starting=["kube-proxy"]) == []


def test_up_refuses_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SANDBOXES_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(realnode, "_check_cluster_support", lambda: None)
    monkeypatch.setattr(realnode, "preflight", lambda **_: ["the real node needs root (...)"])
    monkeypatch.setattr(realnode, "_own_bridge", lambda: False)
    with pytest.raises(realnode.RealNodeError, match="needs root"):
        realnode.up()
    assert not realnode.node_dir().exists()


def test_image_archive_is_a_docker_archive(tmp_path: Path) -> None:
    import json
    import tarfile

    path = realnode.image_archive(tmp_path / "x.tar", "localhost/x:1", {"bin/x": (b"hello", 0o755)}, ["/bin/x"])
    with tarfile.open(path) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert manifest[0]["RepoTags"] == ["localhost/x:1"]
        config = json.load(archive.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
        assert config["config"]["Entrypoint"] == ["/bin/x"]
