"""What a killed engine leaves in a file backend is healed, and a live update's files are left alone."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sandboxes.engine import Engine
from sandboxes.environment import Environment


def _engine(tmp_path: Path) -> tuple[Engine, Path]:
    state = tmp_path / "state"
    env = Environment(bin_dir=tmp_path / "bin", kubeconfig=tmp_path / "kubeconfig", kubeconfig_from_user=False,
                      backend_url=f"file://{state}", backend_from_user=False, passphrase_file=None,
                      passphrase_from_user=False)
    stacks = state / ".pulumi" / "stacks" / "sandboxes"
    stacks.mkdir(parents=True)
    return Engine(tmp_path / "stacks", environment=env), stacks


def _lock(tmp_path: Path, slug: str, pid: int) -> None:
    locks = tmp_path / "state" / ".pulumi" / "locks" / "organization" / "sandboxes" / slug
    locks.mkdir(parents=True)
    (locks / "x.json").write_text(json.dumps({"pid": pid, "hostname": os.uname().nodename}))


def test_truncated_sidecar_and_unfinished_write_are_removed(tmp_path: Path) -> None:
    engine, stacks = _engine(tmp_path)
    (stacks / "sandbox-aaaaaa.json").write_text('{"version": 3}')
    (stacks / "sandbox-aaaaaa.json.attrs").write_text("")
    (stacks / "sandbox-aaaaaa.json.1234.tmp").write_text('{"vers')
    done = engine.heal_backend()
    assert len(done) == 2
    assert not (stacks / "sandbox-aaaaaa.json.attrs").exists()
    assert not list(stacks.glob("*.tmp"))
    assert (stacks / "sandbox-aaaaaa.json").read_text() == '{"version": 3}'


def test_unparsable_checkpoint_is_restored_from_the_backup(tmp_path: Path) -> None:
    engine, stacks = _engine(tmp_path)
    (stacks / "sandbox-aaaaaa.json").write_text('{"vers')
    (stacks / "sandbox-aaaaaa.json.bak").write_text('{"version": 2}')
    assert engine.heal_backend() == ["sandbox-aaaaaa: restored the previous checkpoint from sandbox-aaaaaa.json.bak"]
    assert json.loads((stacks / "sandbox-aaaaaa.json").read_text()) == {"version": 2}


def test_files_of_a_live_update_are_not_touched(tmp_path: Path) -> None:
    engine, stacks = _engine(tmp_path)
    (stacks / "sandbox-aaaaaa.json").write_text('{"version": 3}')
    (stacks / "sandbox-aaaaaa.json.attrs").write_text("")
    _lock(tmp_path, "sandbox-aaaaaa", os.getpid())
    assert engine.heal_backend() == []
    assert (stacks / "sandbox-aaaaaa.json.attrs").exists()


def test_a_dead_process_lock_is_stale(tmp_path: Path) -> None:
    engine, _ = _engine(tmp_path)
    _lock(tmp_path, "sandbox-aaaaaa", 2**22 + 12345)  # above pid_max's default: no such process
    assert [p.name for p in engine.stale_locks("sandbox-aaaaaa")] == ["x.json"]


def test_healthy_backend_needs_nothing(tmp_path: Path) -> None:
    engine, stacks = _engine(tmp_path)
    (stacks / "sandbox-aaaaaa.json").write_text('{"version": 3}')
    (stacks / "sandbox-aaaaaa.json.attrs").write_text('{"user.cache_control": ""}')
    assert engine.heal_backend() == []
