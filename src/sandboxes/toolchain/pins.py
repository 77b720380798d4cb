"""The pinned third-party versions, read from ``toolchain/versions.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sandboxes.paths import project_root


@dataclass(frozen=True)
class Pins:
    pulumi: str
    pulumi_kubernetes: str
    pulumi_kubernetes_module_version: str
    pulumi_random: str
    kubernetes: str
    etcd: str
    kwok: str

    @property
    def kubernetes_minor(self) -> str:
        return ".".join(self.kubernetes.split(".")[:2])


def versions_file() -> Path:
    return project_root() / "toolchain" / "versions.toml"


def load_pins(path: Path | None = None) -> Pins:
    raw = tomllib.loads((path or versions_file()).read_text())
    return Pins(
        pulumi=raw["pulumi"]["version"],
        pulumi_kubernetes=raw["pulumi-kubernetes"]["version"],
        pulumi_kubernetes_module_version=raw["pulumi-kubernetes"]["module_version"],
        pulumi_random=raw["pulumi-random"]["version"],
        kubernetes=raw["kubernetes"]["version"],
        etcd=raw["etcd"]["version"],
        kwok=raw["kwok"]["version"],
    )
