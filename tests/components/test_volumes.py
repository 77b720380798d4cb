"""The database's host directory on the real node: made, found, and reported gone when it is."""

from __future__ import annotations

import os
from pathlib import Path

from components.volumes import _HostDirectoryProvider


def test_directory_is_made_for_the_database_user_and_removed_with_it(tmp_path: Path) -> None:
    provider = _HostDirectoryProvider()
    path = tmp_path / "volumes" / "sandbox-abc123-db-data"
    props = {"path": str(path), "uid": os.getuid(), "gid": os.getgid()}
    created = provider.create(props)
    assert created.id == str(path) and path.is_dir()
    assert (path.stat().st_mode & 0o777) == 0o700
    assert provider.read(created.id, props).id == str(path)
    provider.delete(created.id, props)
    assert not path.exists()


def test_a_directory_removed_behind_the_stack_reads_as_gone(tmp_path: Path) -> None:
    """An empty id makes a refresh drop it, so the next up makes it again (a re-created cluster)."""
    props = {"path": str(tmp_path / "gone"), "uid": os.getuid(), "gid": os.getgid()}
    assert _HostDirectoryProvider().read(str(tmp_path / "gone"), props).id == ""
