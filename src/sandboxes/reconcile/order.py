"""Parent/child order: a ``copy`` needs its parent ready, and a parent outlives its children.

Only ``spec.parent`` links sandboxes, so the graph is a forest unless a file is wrong;
cycles are reported, never looped on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["cycles", "depth_order"]


def cycles(parents: Mapping[str, str | None]) -> set[str]:
    """Slugs that lie on a parent cycle (a -> b -> a)."""
    on_cycle: set[str] = set()
    for start in parents:
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in parents and node not in seen:
            seen.append(node)
            node = parents[node]
        if node is not None and node in seen:
            on_cycle.update(seen[seen.index(node):])
    return on_cycle


def depth_order(slugs: Iterable[str], parents: Mapping[str, str | None]) -> list[str]:
    """``slugs`` sorted so that each parent comes before its children (ties by slug)."""

    def depth(slug: str) -> int:
        d, node, seen = 0, parents.get(slug), {slug}
        while node is not None and node not in seen:
            seen.add(node)
            d += 1
            node = parents.get(node)
        return d

    return sorted(slugs, key=lambda s: (depth(s), s))
