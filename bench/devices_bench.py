"""Device simulator benchmark: read throughput and registry memory, as ratios against baselines from this run.

Run: ``python bench/devices_bench.py`` (uses the repo venv's FastAPI for the HTTP part). Absolute numbers depend on
the machine, so every figure is also reported relative to a trivial baseline measured in the same process:
a plain ``dict`` lookup loop for speed, and a ``dict`` of one million id strings for memory.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "device-simulator"))

from device_simulator.ids import device_id
from device_simulator.model import _draws, base_state_minutes, battery_plan, solar_plan, vehicle_plan
from device_simulator.overrides import apply_overrides
from device_simulator.registry import Registry
from device_simulator.timebase import MINUTES_PER_DAY

T0 = 11_500 * MINUTES_PER_DAY + 612.0  # some day in 2031, 10:12 UTC


def rate(fn: Callable[[], int], min_seconds: float = 0.5) -> float:
    """Operations per second of ``fn`` (which returns how many operations it did), repeated for min_seconds."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < min_seconds:
        done += fn()
    return done / elapsed


def clear_caches() -> None:
    """Forget memoised plans so "cold" means every plan is rebuilt."""
    for cached in (vehicle_plan, battery_plan, solar_plan, _draws):
        cached.cache_clear()


def bench_speed() -> None:
    table = {i: i for i in range(1000)}
    keys = list(range(1000))

    def dict_loop() -> int:
        total = 0
        for k in keys:
            total += table[k]
        return len(keys)

    baseline = rate(dict_loop)
    one = device_id("vehicle", 42)

    def one_device_warm() -> int:
        for i in range(1000):
            base_state_minutes(one, T0 + i * 0.01)
        return 1000

    day = [0]

    def one_device_cold() -> int:
        clear_caches()
        day[0] += 1
        base_state_minutes(one, T0 + day[0] * MINUTES_PER_DAY)
        return 1

    page = [device_id(kind, n) for kind in ("vehicle", "battery", "solar_inverter") for n in range(334)][:1000]

    def page_cold() -> int:
        clear_caches()
        for d in page:
            apply_overrides(d, T0, ())
        return len(page)

    def page_warm() -> int:
        for d in page:
            apply_overrides(d, T0 + 0.5, ())
        return len(page)

    rows = [
        ("baseline: dict lookup loop", baseline),
        ("one device, same day (plan cached)", rate(one_device_warm)),
        ("one device, new day each read (plan built)", rate(one_device_cold)),
        ("page of 1000 mixed devices, cold caches", rate(page_cold)),
        ("page of 1000 mixed devices, warm caches", rate(page_warm)),
    ]
    try:
        from device_simulator.api import create_app
        from fastapi.testclient import TestClient

        reg = Registry()
        for kind in ("vehicle", "battery", "solar_inverter"):
            reg.create(kind, 334)
        http = TestClient(create_app(reg))

        def http_page() -> int:
            body = http.get("/v1/devices", params={"limit": 1000, "with_state": "true"}).json()
            return len(body["items"])

        rows.append(("HTTP GET /v1/devices?limit=1000&with_state (in-process)", rate(http_page, 1.0)))
    except ImportError:  # pragma: no cover - only without the server dependencies
        pass
    print(f"{'state reads':<58}{'reads/s':>14}{'x baseline':>12}")
    for name, ops in rows:
        print(f"{name:<58}{ops:>14,.0f}{ops / baseline:>12.4f}")
    page_rate = dict(rows)["page of 1000 mixed devices, warm caches"]
    print(f"  -> a warm page of 1000 states takes {1000 / page_rate * 1000:.1f} ms")


def measure(build: Callable[[], object]) -> int:
    """Bytes still allocated after ``build`` returns (the object is kept alive while measuring)."""
    gc.collect()
    tracemalloc.start()
    kept = build()
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del kept
    return size


def bench_memory() -> None:
    def registry(n: int) -> Callable[[], object]:
        def build() -> object:
            reg = Registry()
            reg.create("vehicle", n)
            return reg
        return build

    small, big = measure(registry(1_000)), measure(registry(1_000_000))
    naive = measure(lambda: {device_id("vehicle", i): ("vehicle", i) for i in range(1_000_000)})
    per_device = (big - small) / 999_000
    print()
    print(f"{'registry memory':<58}{'bytes':>14}")
    print(f"{'1 000 registered vehicles':<58}{small:>14,}")
    print(f"{'1 000 000 registered vehicles':<58}{big:>14,}")
    print(f"{'baseline: dict of 1 000 000 id -> (kind, n)':<58}{naive:>14,}")
    print(f"  -> 1M/1k ratio {big / max(small, 1):.3f}; marginal cost {per_device:.4f} B/device "
          f"vs {naive / 1_000_000:.1f} B/device for the dict baseline ({big / naive:.6f} x)")


if __name__ == "__main__":
    bench_speed()
    bench_memory()
