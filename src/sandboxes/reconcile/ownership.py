"""Who manages a sandbox, and therefore who may change or prune it.

Each manager has an owner string: ``api`` for sandboxes made through the service,
``git:<dir>`` for a directory of stack files reconciled by ``sandboxctl reconcile``
(the directory relative to the project root when it lies inside it, so that every
checkout of the repository agrees, else absolute). A stack file's own
``sandbox:owner`` may also hold a person's name: that is information, not a claim.
Only values that name a manager (``api``, ``git:...``) are claims; a file in this
directory that claims another manager is refused rather than silently taken over.
"""

from __future__ import annotations

from pathlib import Path

from sandboxes.paths import project_root

__all__ = ["API_OWNER", "GIT_PREFIX", "dir_owner", "is_manager_claim"]

API_OWNER = "api"
GIT_PREFIX = "git:"


def dir_owner(directory: Path, root: Path | None = None) -> str:
    """The owner string of a stacks directory: ``git:stacks`` for the repository's own."""
    directory = directory.resolve()
    try:
        base = (root or project_root()).resolve()
    except RuntimeError:
        return GIT_PREFIX + str(directory)
    try:
        return GIT_PREFIX + directory.relative_to(base).as_posix()
    except ValueError:
        return GIT_PREFIX + str(directory)


def is_manager_claim(owner: str | None) -> bool:
    """True when ``owner`` names a manager (the API or a reconciled directory), not a person."""
    return owner is not None and (owner == API_OWNER or owner.startswith(GIT_PREFIX))
