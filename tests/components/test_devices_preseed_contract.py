"""Contract: the simulator Deployment's ``SIMULATOR_PRESEED`` registers exactly the devices the seed data links.

The seed program (its own image) and the Pulumi component (the provisioner) cannot import each other, so
each keeps its own per-size device counts: ``sandbox_seed.devices.DEVICE_COUNTS`` and
``components.sizes.SIMULATED_DEVICE_COUNTS``. If they drift, linked devices 404 in the simulator (too few
preseeded) or unlinked ones appear (too many). This test compares the tables for every size and module
choice, then runs the real seed program with the Job's own arguments against a real PostgreSQL and checks
the seeded ``simulated_devices`` ids against the ids the real simulator registers from the env the
Deployment declares (``device_simulator.__main__.preseed`` into a ``Registry``, ids via ``device_id``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from components.sizes import DEVICE_KIND_MODULE, SIMULATED_DEVICE_COUNTS, simulator_preseed
from device_simulator.__main__ import preseed
from device_simulator.ids import device_id
from device_simulator.registry import Registry

from sandbox_seed import devices as seed_devices
from sandbox_seed.generate import Plan
from sandbox_seed.settings import SIZES
from sandboxes.spec import Size

from .harness import base_spec, render

SEED_JOBS = Path(__file__).resolve().parents[2] / "seed-jobs"
REFERENCE = datetime(2026, 1, 1, tzinfo=UTC)
MODULE_CHOICES = [("msp",), ("cpo",), ("cpo", "msp")]


def parse_preseed(value: str) -> dict[str, int]:
    """``kind=N,...`` → {kind: N}, as the simulator reads it."""
    return {k: int(n) for k, n in (part.split("=") for part in value.split(",") if part)}


def simulator_ids(preseed_value: str) -> set[tuple[str, str]]:
    """(id, kind) of every device a fresh simulator registers from ``preseed_value``."""
    registry = Registry()
    preseed(registry, preseed_value)
    out: set[tuple[str, str]] = set()
    cursor: str | None = None
    while True:
        page, cursor = registry.page(None, 1000, cursor)
        for info in page:
            assert info.id == device_id(info.kind, info.index)
            out.add((info.id, info.kind))
        if cursor is None:
            return out


def test_count_tables_are_equal_for_every_size() -> None:
    assert {s.value for s in Size} == set(SIZES) == set(seed_devices.DEVICE_COUNTS)
    for size in Size:
        assert SIMULATED_DEVICE_COUNTS[size] == seed_devices.DEVICE_COUNTS[size.value], size
    assert {k: m.value for k, m in DEVICE_KIND_MODULE.items()} == seed_devices.KIND_MODULE


@pytest.mark.parametrize("size", list(Size))
@pytest.mark.parametrize("modules", MODULE_CHOICES)
def test_preseed_equals_what_the_seed_links(size: Size, modules: tuple[str, ...]) -> None:
    planned = Plan(modules, size.value, 1, REFERENCE).devices  # capped by drivers/locations
    expected = {k: n for k, n in planned.items() if n > 0}
    assert parse_preseed(simulator_preseed(size, modules)) == expected


def deployment_env(spec: dict[str, Any]) -> dict[str, str]:
    r = render(spec)
    container = r.named("kubernetes:apps/v1:Deployment", "sandbox-abc123-devices").inputs["spec"]["template"][
        "spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"]}


def job_container(spec: dict[str, Any]) -> dict[str, Any]:
    r = render(spec)
    return dict(r.named("kubernetes:batch/v1:Job", "sandbox-abc123-seed").inputs["spec"]["template"]["spec"]
                ["containers"][0])


@pytest.mark.postgres
def test_seeded_devices_are_exactly_the_preseeded_ones(fresh_database: str) -> None:
    spec = base_spec(data="preconfigured", modules=["cpo", "msp"], platform={"size": "small"})
    env = deployment_env(spec)
    job = job_container(spec)
    assert job["args"][job["args"].index("--size") + 1] == "small"
    seed_env = {e["name"]: e["value"] for e in job["env"] if "value" in e}
    run_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SEED_JOBS), **seed_env,
               "DATABASE_URL": fresh_database, "SEED_CONNECT_TIMEOUT": "10"}
    done = subprocess.run([sys.executable, *job["command"][1:], *job["args"]], cwd=SEED_JOBS, env=run_env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    with psycopg.connect(fresh_database) as conn:
        seeded = {(str(i), str(k)) for i, k in conn.execute("SELECT device_id, kind FROM simulated_devices")}
    preseeded = simulator_ids(env["SIMULATOR_PRESEED"])
    assert seeded == preseeded
    assert {k for _i, k in seeded} == {"vehicle", "battery", "solar_inverter"}
