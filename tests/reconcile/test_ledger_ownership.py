"""The ledger (a cache that must never be trusted over the backend) and owner strings."""

from __future__ import annotations

import json
from pathlib import Path

from sandboxes.reconcile import Ledger, default_path, dir_owner, is_manager_claim


def test_ledger_round_trip_and_atomic_file(tmp_path: Path) -> None:
    path = tmp_path / "l" / "ledger.json"
    ledger = Ledger(path, directory=tmp_path, backend="file:///x")
    ledger.record("sandbox-aaaaaa", "abc", "git:stacks", parent=None)
    ledger.record("sandbox-bbbbbb", "def", "git:stacks", parent="sandbox-aaaaaa")
    ledger.forget("sandbox-aaaaaa")
    again = Ledger(path)
    assert list(again.entries()) == ["sandbox-bbbbbb"]
    assert again.get("sandbox-bbbbbb").parent == "sandbox-aaaaaa"  # type: ignore[union-attr]
    data = json.loads(path.read_text())
    assert data["backend"] == "file:///x" and data["version"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["ledger.json"]  # no temporary files left


def test_damaged_or_foreign_version_ledger_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text("{not json")
    assert Ledger(path).entries() == {}
    path.write_text(json.dumps({"version": 99, "entries": {"sandbox-aaaaaa": {"spec_hash": "x"}}}))
    assert Ledger(path).entries() == {}


def test_ledger_key_depends_on_directory_and_backend(tmp_path: Path) -> None:
    a = default_path(tmp_path / "stacks", "file:///one")
    assert a != default_path(tmp_path / "stacks", "s3://two")
    assert a != default_path(tmp_path / "other", "file:///one")
    assert a == default_path(tmp_path / "stacks", "file:///one")


def test_owner_strings(tmp_path: Path) -> None:
    assert dir_owner(tmp_path / "stacks", root=tmp_path) == "git:stacks"
    assert dir_owner(tmp_path / "a" / "b", root=tmp_path) == "git:a/b"
    assert dir_owner(Path("/elsewhere/stacks"), root=tmp_path) == "git:/elsewhere/stacks"
    assert is_manager_claim("api") and is_manager_claim("git:stacks")
    assert not is_manager_claim("jane@example.com") and not is_manager_claim(None)
