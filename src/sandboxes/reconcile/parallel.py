"""Bounded fan-out of engine calls: each call is its own ``pulumi`` process, so threads suffice."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["fan_out"]

T = TypeVar("T")
R = TypeVar("R")


def fan_out(fn: Callable[[T], R], items: Iterable[T], parallel: int) -> list[R]:
    """``[fn(x) for x in items]`` with up to ``parallel`` at once, results in input order."""
    work = list(items)
    if not work:
        return []
    if parallel <= 1 or len(work) == 1:
        return [fn(x) for x in work]
    with ThreadPoolExecutor(max_workers=min(parallel, len(work)), thread_name_prefix="reconcile") as pool:
        return list(pool.map(fn, work))
