"""Simulated devices in the seed data (issue #7): the seed program's copy of the simulator's id algorithm,
the per-size counts, and the rows linking devices to drivers (MSP) and locations (CPO)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from device_simulator import ids as simulator_ids
from sandbox_seed import devices
from sandbox_seed.generate import Plan
from sandbox_seed.settings import SIZES
from tests.fixtures.postgres import PostgresServer
from tests.seed_jobs.conftest import query, scalar, seed

REF = datetime(2026, 1, 1, tzinfo=UTC)


def test_reference_vectors_from_the_simulator_readme() -> None:
    assert devices.device_id("vehicle", 0) == "veh-1f2e3d537557"
    assert devices.device_id("vehicle", 1) == "veh-bd65b7b8bf02"
    assert devices.device_id("vehicle", 2) == "veh-5b9d30e4c730"
    assert devices.device_id("battery", 0) == "bat-2a3b4c775533"
    assert devices.device_id("solar_inverter", 0) == "sol-3c4d5e533ddf"


@pytest.mark.parametrize("kind", simulator_ids.KINDS)
def test_id_algorithm_equals_the_simulators(kind: str) -> None:
    assert set(devices.KINDS) == set(simulator_ids.KINDS)
    rng = random.Random(7)
    ns = [*range(5000), simulator_ids.MAX_INDEX, simulator_ids.MAX_INDEX - 1, 1 << 24, (1 << 24) - 1,
          *(rng.randrange(simulator_ids.MAX_INDEX + 1) for _ in range(5000))]
    for n in ns:
        assert devices.device_id(kind, n) == simulator_ids.device_id(kind, n), (kind, n)


def test_id_algorithm_rejects_what_the_simulator_rejects() -> None:
    for bad in (("car", 0), ("vehicle", -1), ("vehicle", simulator_ids.MAX_INDEX + 1)):
        with pytest.raises(ValueError):
            simulator_ids.device_id(*bad)
        with pytest.raises(ValueError):
            devices.device_id(*bad)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("modules", [("msp",), ("cpo",), ("cpo", "msp")])
def test_counts_follow_modules_and_the_cap_never_binds(size: str, modules: tuple[str, ...]) -> None:
    plan = Plan(modules, size, 1, REF)
    uncapped = devices.device_counts(size, modules)
    assert plan.devices == uncapped  # every device gets its own driver/location at every size
    assert (uncapped["vehicle"] > 0) == ("msp" in modules)
    assert (uncapped["battery"] > 0) == (uncapped["solar_inverter"] > 0) == ("cpo" in modules)
    assert plan.counts()["simulated_devices"] == sum(uncapped.values())


def test_counts_are_capped_by_drivers_and_locations() -> None:
    assert devices.device_counts("large", ("cpo", "msp"), n_drivers=3, n_locations=2) == {
        "vehicle": 3, "battery": 2, "solar_inverter": 2}


def expected_ids(modules: tuple[str, ...]) -> set[tuple[str, str]]:
    counts = devices.device_counts("small", modules)
    return {(simulator_ids.device_id(k, i), k) for k, n in counts.items() for i in range(n)}


@pytest.mark.postgres
def test_preconfigured_links_devices_to_drivers_and_locations(seeded_parent: str) -> None:
    url = seeded_parent
    rows = query(url, "SELECT device_id, kind FROM simulated_devices")
    assert set(rows) == expected_ids(("cpo", "msp")) and len(rows) == 40
    # vehicles belong to drivers, batteries/inverters to locations, never both, and every link resolves
    assert scalar(url, "SELECT count(*) FROM simulated_devices WHERE (kind = 'vehicle') <> "
                       "(driver_id IS NOT NULL AND location_id IS NULL)") == 0
    assert scalar(url, "SELECT count(*) FROM simulated_devices WHERE kind <> 'vehicle' AND location_id IS NULL") == 0
    assert scalar(url, "SELECT count(DISTINCT driver_id) FROM simulated_devices") == 20
    assert scalar(url, "SELECT count(*) FROM simulated_devices d JOIN locations l ON l.id = d.location_id") == 20
    (rec,) = query(url, "SELECT row_counts FROM seed_record")
    assert rec[0]["simulated_devices"] == 40


@pytest.mark.postgres
@pytest.mark.parametrize("modules", ["msp", "cpo"])
def test_one_module_links_only_its_kinds(fresh_database: str, modules: str) -> None:
    seed(fresh_database, "preconfigured", modules)
    rows = set(query(fresh_database, "SELECT device_id, kind FROM simulated_devices"))
    assert rows == expected_ids((modules,))


@pytest.mark.postgres
def test_blank_has_no_devices_and_masked_copy_keeps_them(postgres_server: PostgresServer,
                                                         seeded_parent: str) -> None:
    blank = postgres_server.create_database()
    seed(blank, "blank")
    assert scalar(blank, "SELECT count(*) FROM simulated_devices") == 0
    target = postgres_server.create_database()
    seed(target, "masked-copy", "msp,cpo", 3,
         env={"PARENT_DATABASE_URL": seeded_parent, "SEED_MASKED_COPY_ALLOWED": "true", "SANDBOX_SLUG": "sandbox-d"})
    q = "SELECT device_id, kind, driver_id, location_id, created_at FROM simulated_devices ORDER BY device_id"
    assert query(target, q) == query(seeded_parent, q)
