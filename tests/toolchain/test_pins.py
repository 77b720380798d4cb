"""The pins are one story: the SDKs on PyPI match the plugins the toolchain builds."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

from sandboxes.paths import project_root
from sandboxes.toolchain import components, load_pins


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((project_root() / "pyproject.toml").read_text())
    pins = {}
    for dep in data["project"]["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9.]+)", dep)
        if match:
            pins[match[1]] = match[2]
    return pins


def test_sdk_pins_match_the_built_plugins() -> None:
    pins, sdk = load_pins(), _pyproject_pins()
    assert sdk["pulumi"] == pins.pulumi
    assert sdk["pulumi-kubernetes"] == pins.pulumi_kubernetes
    assert sdk["pulumi-random"] == pins.pulumi_random


def test_every_component_has_a_versioned_cache_dir() -> None:
    for component in components():
        assert component.out_dir.parts[-2:] == (component.name, component.version)


def test_wrapper_modules_pin_the_same_versions() -> None:
    pins = load_pins()
    modules = project_root() / "toolchain" / "modules"
    assert f"github.com/pulumi/pulumi/pkg/v3 v{pins.pulumi}" in (modules / "pulumi" / "go.mod").read_text()
    assert f"k8s.io/kubernetes v{pins.kubernetes}" in (modules / "kubernetes" / "go.mod").read_text()
    assert f"go.etcd.io/etcd/server/v3 v{pins.etcd}" in (modules / "etcd" / "go.mod").read_text()
    staging = re.findall(r"=> k8s\.io/\S+ v0\.(\d+)\.(\d+)", (modules / "kubernetes" / "go.mod").read_text())
    assert len(staging) == 31
    assert {f"1.{a}.{b}" for a, b in staging} == {pins.kubernetes}


def test_no_binary_is_tracked() -> None:
    root = project_root()
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        path = root / name
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            assert handle.read(4) != b"\x7fELF", f"compiled binary in the repository: {path}"


def test_cache_dir_is_overridable(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SANDBOXES_CACHE", str(tmp_path))
    from sandboxes.paths import toolchain_bin_dir

    assert toolchain_bin_dir() == tmp_path / "bin"
    assert all(str(c.out_dir).startswith(str(tmp_path)) for c in components())
