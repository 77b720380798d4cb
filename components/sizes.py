"""Size presets: the one table that says what ``small``, ``medium`` and ``large`` mean.

Every number that depends on ``spec.platform.size`` comes from here: the namespace's
ResourceQuota and LimitRange, the database volume and each container's requests and
limits. The quota leaves room for every pod a sandbox runs at once (web, a second web
pod during a rolling update, database, seed job, device simulator). It also holds how many
simulated devices the device simulator preseeds (``SIMULATOR_PRESEED``) per size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sandboxes.spec import Module, Size

__all__ = [
    "DEVICE_KIND_MODULE",
    "SIMULATED_DEVICE_COUNTS",
    "SIZE_PRESETS",
    "ContainerResources",
    "SizePreset",
    "preset",
    "simulator_preseed",
]


@dataclass(frozen=True)
class ContainerResources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def as_k8s(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class SizePreset:
    quota_cpu_requests: str
    quota_cpu_limits: str
    quota_memory_requests: str
    quota_memory_limits: str
    quota_pods: int
    quota_pvcs: int
    quota_storage: str
    db_volume: str
    container: ContainerResources

    def quota_hard(self) -> dict[str, str]:
        """ResourceQuota ``spec.hard``."""
        return {
            "requests.cpu": self.quota_cpu_requests,
            "limits.cpu": self.quota_cpu_limits,
            "requests.memory": self.quota_memory_requests,
            "limits.memory": self.quota_memory_limits,
            "pods": str(self.quota_pods),
            "persistentvolumeclaims": str(self.quota_pvcs),
            "requests.storage": self.quota_storage,
        }


SIZE_PRESETS: dict[Size, SizePreset] = {
    Size.SMALL: SizePreset(
        quota_cpu_requests="2", quota_cpu_limits="4",
        quota_memory_requests="2Gi", quota_memory_limits="4Gi",
        quota_pods=10, quota_pvcs=2, quota_storage="5Gi", db_volume="1Gi",
        container=ContainerResources("100m", "128Mi", "500m", "512Mi"),
    ),
    Size.MEDIUM: SizePreset(
        quota_cpu_requests="4", quota_cpu_limits="8",
        quota_memory_requests="4Gi", quota_memory_limits="8Gi",
        quota_pods=20, quota_pvcs=4, quota_storage="20Gi", db_volume="5Gi",
        container=ContainerResources("250m", "256Mi", "1", "1Gi"),
    ),
    Size.LARGE: SizePreset(
        quota_cpu_requests="8", quota_cpu_limits="16",
        quota_memory_requests="8Gi", quota_memory_limits="16Gi",
        quota_pods=40, quota_pvcs=8, quota_storage="50Gi", db_volume="20Gi",
        container=ContainerResources("500m", "512Mi", "2", "2Gi"),
    ),
}


def preset(size: Size) -> SizePreset:
    return SIZE_PRESETS[Size(size)]


# Simulated devices the preconfigured seed data links, per size: vehicles to MSP drivers, batteries and
# solar inverters to CPO locations. The seed image cannot be imported here (separate images), so this is a
# copy of ``seed-jobs/sandbox_seed/devices.py:DEVICE_COUNTS``; the contract test
# tests/components/test_devices_preseed_contract.py fails if the two drift apart.
SIMULATED_DEVICE_COUNTS: dict[Size, dict[str, int]] = {
    Size.SMALL: {"vehicle": 20, "battery": 10, "solar_inverter": 10},
    Size.MEDIUM: {"vehicle": 200, "battery": 100, "solar_inverter": 100},
    Size.LARGE: {"vehicle": 2000, "battery": 1000, "solar_inverter": 1000},
}
DEVICE_KIND_MODULE: dict[str, Module] = {"vehicle": Module.MSP, "battery": Module.CPO, "solar_inverter": Module.CPO}


def simulator_preseed(size: Size, modules: Iterable[Module | str]) -> str:
    """``SIMULATOR_PRESEED`` value (``kind=N,...``) registering exactly the devices the seed data links.

    The simulator registers ``device_id(kind, 0..N-1)``, the ids the seed program writes; a kind whose
    module the sandbox lacks is left out (the seed links none of it).
    """
    chosen = {Module(m) for m in modules}
    return ",".join(
        f"{kind}={n}" for kind, n in SIMULATED_DEVICE_COUNTS[Size(size)].items()
        if DEVICE_KIND_MODULE[kind] in chosen and n > 0
    )
