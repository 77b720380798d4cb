"""Races settled by the database: one active operation per sandbox, distinct slugs under load."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sandboxes.service import Accepted, Conflict, SandboxService
from sandboxes.service.ports import NullDispatcher
from tests.service.fixtures import ACME, make


def _race(n: int, call: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = call(i)
        except Exception as err:
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_twenty_settings_updates_exactly_one_accepted(service: SandboxService) -> None:
    slug = make(service)
    service.dispatcher = NullDispatcher()  # the winner's operation stays active while the others arrive
    results = _race(20, lambda i: service.update_settings(ACME, slug, {"feature_toggles": {f"t{i}": True}}))
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"Accepted": 1, "Conflict": 19}, results
    winner = next(r for r in results if isinstance(r, Accepted))
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert all(c.operation_id in (winner.operation.id, None) for c in conflicts)
    assert sum(c.operation_id == winner.operation.id for c in conflicts) >= 15
    toggles = service.get_settings(ACME, slug).feature_toggles
    assert len(toggles) == 1  # only the winner's change reached the record


def test_ten_simultaneous_creates_get_distinct_slugs(service: SandboxService) -> None:
    service.dispatcher = NullDispatcher()
    results = _race(10, lambda i: service.create(ACME, _body(i)))
    assert all(isinstance(r, Accepted) for r in results), results
    slugs = {r.sandbox.slug for r in results}
    assert len(slugs) == 10
    assert service.list(ACME).total == 10


def test_colliding_slug_draws_under_concurrency(service: SandboxService) -> None:
    """Every thread first draws the same slug: the database lets one have it, the others draw again."""
    service.dispatcher = NullDispatcher()
    local = threading.local()
    counter = iter(range(10_000))
    lock = threading.Lock()

    def factory() -> str:
        if not getattr(local, "drawn", False):
            local.drawn = True
            return "sandbox-same00"
        with lock:
            return f"sandbox-u{next(counter):05d}"

    service.slug_factory = factory
    results = _race(8, lambda i: service.create(ACME, _body(i)))
    assert all(isinstance(r, Accepted) for r in results), results
    assert len({r.sandbox.slug for r in results}) == 8
    assert "sandbox-same00" in {r.sandbox.slug for r in results}


def _body(i: int) -> Any:
    from sandboxes.service import SandboxCreate

    return SandboxCreate.model_validate({"name": f"load {i}", "modules": ["msp", "cpo"]})
