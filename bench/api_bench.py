"""API benchmark (not a test): numbers reported as ratios against baselines measured in the same run.

1. ``GET /v1/sandboxes`` latency (p50/p99) with 10 000 records, against ``GET /healthz`` (the
   framework's floor) and against the same list with 100 records (how it scales).
2. 20 concurrent creates with the fake engine: throughput and peak memory of the worker
   pool (one process per operation), against the same creates run in-process threads
   (the price of process isolation).

Run: ``.venv/bin/python bench/api_bench.py [--records 10000] [--requests 300] [--pool 4]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from sandboxes.api import create_app
from sandboxes.service import Role, SandboxCreate, SandboxService
from sandboxes.service.engines import engine_factory
from sandboxes.service.factory import open_database
from sandboxes.service.ports import NullDispatcher
from sandboxes.service.runner import InlineDispatcher, WorkerPool
from sandboxes.settings import Settings
from sandboxes.spec import parse_spec, spec_hash
from sandboxes.store.models import SandboxRecord


def _settings(root: Path, pool: int = 4) -> Settings:
    return Settings(data_dir=root, database_url=f"sqlite:///{root / 'records.db'}", engine="fake",  # type: ignore[arg-type]
                    worker_pool_size=pool)


def _seed(service: SandboxService, count: int) -> None:
    base = parse_spec({"slug": "sandbox-000000", "name": "bench", "modules": ["cpo"], "provider_id": "acme"})
    now = datetime.now(UTC)
    rows = []
    for i in range(count):
        spec = base.model_copy(update={"slug": f"sandbox-{i:06d}", "name": f"bench {i}",
                                       "provider_id": "acme" if i % 2 else "globex"})
        rows.append(SandboxRecord(slug=spec.slug, name=spec.name, provider_id=spec.provider_id, parent=None,
                                  status="ready", owner="api", spec=spec.config_value(), spec_hash=spec_hash(spec),
                                  url=None, needs_repair=False, created_by="bench",
                                  created_at=now - timedelta(seconds=i), updated_at=now))
    with service.db.session() as session:
        session.add_all(rows)


def _latencies(client: TestClient, path: str, headers: dict[str, str], n: int) -> dict[str, float]:
    samples = []
    for _ in range(10):
        client.get(path, headers=headers)
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))]}


def bench_list(records: int, requests: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, count in (("small", 100), ("large", records)):
        with tempfile.TemporaryDirectory() as tmp:
            settings = _settings(Path(tmp))
            db = open_database(settings)
            service = SandboxService(settings, db, dispatcher=NullDispatcher())
            _seed(service, count)
            token = service.issue_token("bench", Role.SYSTEM_ADMIN).token
            headers = {"Authorization": f"Bearer {token}"}
            with TestClient(create_app(service=service, recover=False)) as client:
                out[f"list_{label}"] = {"records": count, **_latencies(client, "/v1/sandboxes?limit=50", headers,
                                                                       requests)}
                out[f"list_{label}_provider_filter"] = _latencies(
                    client, "/v1/sandboxes?limit=50&provider_id=acme", headers, requests // 3)
                if label == "large":
                    out["healthz"] = _latencies(client, "/healthz", {}, requests)
            db.dispose()
    large, small, floor = out["list_large"], out["list_small"], out["healthz"]
    out["ratios"] = {
        "list_10k_p50_vs_healthz": large["p50_ms"] / floor["p50_ms"],
        "list_10k_p99_vs_healthz": large["p99_ms"] / floor["p99_ms"],
        "list_10k_p50_vs_list_100": large["p50_ms"] / small["p50_ms"],
    }
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _creates(service: SandboxService, n: int) -> list[str]:
    principal = service.authenticate(service.issue_token(f"b{uuid.uuid4().hex[:6]}", Role.SYSTEM_ADMIN).token)
    ids: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def one(i: int) -> None:
        barrier.wait()
        accepted = service.create(principal, SandboxCreate.model_validate({"name": f"c{i}", "modules": ["cpo"]}))
        with lock:
            ids.append(accepted.operation.id)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids


def _wait_all(service: SandboxService, ids: list[str], on_tick: Any = None) -> None:
    principal = service.authenticate(service.issue_token("w", Role.SYSTEM_ADMIN).token)
    while True:
        if on_tick:
            on_tick()
        if all(service.get_operation(principal, i).status.finished for i in ids):
            return
        time.sleep(0.05)


def bench_creates(n: int, pool_size: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), pool_size)
        db = open_database(settings)
        inline = InlineDispatcher(settings, db, engine_factory(settings))
        service = SandboxService(settings, db, dispatcher=inline)
        started = time.perf_counter()
        ids = _creates(service, n)
        _wait_all(service, ids)
        elapsed = time.perf_counter() - started
        out["inline_threads"] = {"creates": n, "seconds": elapsed, "per_second": n / elapsed}
        db.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp), pool_size)
        db = open_database(settings)
        pool = WorkerPool(settings, db)
        service = SandboxService(settings, db, dispatcher=pool)
        peak = {"kib": 0, "processes": 0}

        def sample() -> None:
            pids = [p.pid for p in list(pool.processes.values())]
            total = sum(_rss_kib(pid) for pid in pids)
            if total > peak["kib"]:
                peak["kib"] = total
            peak["processes"] = max(peak["processes"], len(pids))

        started = time.perf_counter()
        ids = _creates(service, n)
        _wait_all(service, ids, sample)
        elapsed = time.perf_counter() - started
        principal = service.authenticate(service.issue_token("c", Role.SYSTEM_ADMIN).token)
        failed = [i for i in ids if service.get_operation(principal, i).status != "succeeded"]
        out["worker_pool"] = {"creates": n, "pool_size": pool_size, "seconds": elapsed, "per_second": n / elapsed,
                              "peak_rss_mib": peak["kib"] / 1024, "peak_processes": peak["processes"],
                              "failed": len(failed)}
        out["api_process_rss_mib"] = _rss_kib(__import__("os").getpid()) / 1024
        pool.shutdown()
        db.dispose()
    out["ratios"] = {
        "pool_throughput_vs_inline": out["worker_pool"]["per_second"] / out["inline_threads"]["per_second"],
        "pool_peak_rss_vs_api_process": out["worker_pool"]["peak_rss_mib"] / out["api_process_rss_mib"],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--creates", type=int, default=20)
    parser.add_argument("--pool", type=int, default=4)
    args = parser.parse_args()
    results = {"list": bench_list(args.records, args.requests), "creates": bench_creates(args.creates, args.pool)}
    print(json.dumps(results, indent=2, default=lambda v: round(v, 3) if isinstance(v, float) else str(v)))


if __name__ == "__main__":
    main()
