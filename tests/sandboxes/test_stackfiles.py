"""Stack files: the spec round-trips, other keys survive, bad files are named with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sandboxes import stackfiles
from sandboxes.spec import parse_spec

SPEC = {"slug": "sandbox-a34g56", "name": "Demo", "provider_id": "acme", "modules": ["cpo"], "data": "blank"}


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    spec = parse_spec(SPEC)
    path = stackfiles.write(tmp_path, spec, owner="api")
    assert path.name == "Pulumi.sandbox-a34g56.yaml"
    read = stackfiles.read(path)
    assert read.spec == spec and read.owner == "api" and read.stack == "sandbox-a34g56"


def test_rewrite_keeps_engine_and_hand_written_keys(tmp_path: Path) -> None:
    path = stackfiles.path_for(tmp_path, "sandbox-a34g56")
    config = {"sandbox:spec": SPEC, "kubernetes:context": "x"}
    path.write_text(yaml.safe_dump({"encryptionsalt": "v1:abc", "config": config}))
    stackfiles.write(tmp_path, parse_spec({**SPEC, "name": "Renamed"}))
    raw = yaml.safe_load(path.read_text())
    assert raw["encryptionsalt"] == "v1:abc"
    assert raw["config"]["kubernetes:context"] == "x"
    assert raw["config"]["sandbox:spec"]["name"] == "Renamed"
    assert not list(tmp_path.glob(".Pulumi.*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("config: [unclosed", "malformed YAML at line"),
        ("- a\n- b\n", "mapping"),
        ("config:\n  other: 1\n", "missing 'sandbox:spec'"),
        ("config:\n  sandbox:spec:\n    slug: sandbox-a34g56\n    name: x\n    modules: [cpo]\n    extra: 1\n",
         "unknown field"),
        ("config:\n  sandbox:spec:\n    slug: sandbox-zzzzzz\n    name: x\n    modules: [cpo]\n", "make them equal"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "Pulumi.sandbox-a34g56.yaml"
    path.write_text(content)
    with pytest.raises(stackfiles.StackFileError) as info:
        stackfiles.read(path)
    assert reason in str(info.value) and str(path) in str(info.value)


def test_scan_reports_each_bad_file_and_keeps_the_rest(tmp_path: Path) -> None:
    stackfiles.write(tmp_path, parse_spec(SPEC))
    (tmp_path / "Pulumi.sandbox-bbbbbb.yaml").write_text("config: {")
    files, errors = stackfiles.scan(tmp_path)
    assert [f.stack for f in files] == ["sandbox-a34g56"]
    assert len(errors) == 1 and errors[0].path.name == "Pulumi.sandbox-bbbbbb.yaml"


def test_example_stack_file_in_the_repo_is_valid() -> None:
    files, errors = stackfiles.scan(Path(__file__).parents[2] / "stacks")
    assert not errors
    assert files, "stacks/ should hold at least the example sandbox"
