"""Content-hash tags and the no-op logic of sandboxes.images, against a fake runner."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from sandboxes import images
from sandboxes.images import (
    BASE_NAME,
    BuildOptions,
    ImageBuilder,
    ImageDef,
    ImageError,
    Outcome,
    RunResult,
    base_tag,
    content_hash,
    context_files,
    image_refs,
    merged_refs,
    preflight,
    write_refs,
)

REPO = Path(__file__).resolve().parents[2]
IMG = ImageDef("web", "web/Containerfile", "web", "a test")
BASE = "localhost/sandboxes/debian-base:0123456789abcdef"
BASE_ID = "sha256:" + "a" * 64


class FakeRunner:
    """Records every command; ``podman image exists`` answers from ``present``, builds add to it."""

    def __init__(self, present: Sequence[str] = (), fail: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.present = set(present)
        self.fail = fail
        self.containerd: set[str] = set()

    def run(self, argv: Sequence[str], *, capture: bool = False) -> RunResult:
        argv = list(argv)
        self.calls.append(argv)
        if self.fail and self.fail in argv:
            return RunResult(1)
        if argv[0] == "podman":
            sub = _podman_sub(argv)
            if sub[:2] == ["image", "exists"]:
                return RunResult(0 if sub[2] in self.present else 1)
            if sub[:2] == ["image", "inspect"]:
                return RunResult(0, BASE_ID + "\n") if sub[-1] in self.present else RunResult(125)
            if sub[0] == "build":
                self.present.add(sub[sub.index("--tag") + 1])
            if sub[0] == "import":
                self.present.add(sub[-1])
            if sub[0] == "save":
                Path(sub[sub.index("--output") + 1]).write_bytes(b"archive")
        elif argv[0] == "mmdebstrap":
            Path(argv[-4]).write_bytes(b"rootfs")
        elif argv[0] == "ctr":
            if argv[-2:-1] == ["import"]:
                self.containerd.add("imported")
            if "ls" in argv:
                return RunResult(0, "\n".join(self.containerd))
        return RunResult(0)

    def commands(self, verb: str) -> list[list[str]]:
        return [a for a in self.calls if a[0] == verb or (a[0] == "podman" and _podman_sub(a)[:1] == [verb])]


def _podman_sub(argv: list[str]) -> list[str]:
    """The podman subcommand and its arguments, past the global ``--option value`` pairs."""
    sub = argv[1:]
    while sub and sub[0].startswith("--"):
        sub = sub[2:]
    return sub


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "web" / "pkg").mkdir(parents=True)
    (root / "web" / "Containerfile").write_text("ARG BASE=debian:bookworm-slim\nFROM ${BASE}\nCOPY pkg /app\n")
    (root / "web" / "pkg" / "main.py").write_text("print('hi')\n")
    (root / "web" / "run.sh").write_text("#!/bin/sh\n")
    (root / "images" / "base").mkdir(parents=True)
    shutil.copy(REPO / "images" / "base" / "recipe.json", root / "images" / "base" / "recipe.json")
    return root


def builder(root: Path, runner: FakeRunner, tmp_path: Path, **opts: object) -> ImageBuilder:
    return ImageBuilder(
        root=root,
        runner=runner,
        options=BuildOptions(**opts),  # type: ignore[arg-type]
        workdir=tmp_path / "work",
        which=lambda tool: f"/usr/bin/{tool}",
    )


# --- hashes ----------------------------------------------------------------------------------


def test_hash_is_stable_and_short(project: Path) -> None:
    first = content_hash(project, IMG, BASE, BASE_ID)
    assert first == content_hash(project, IMG, BASE, BASE_ID)
    assert len(first) == 16 and int(first, 16) >= 0


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "web" / "Containerfile").write_text("FROM ${BASE}\nRUN true\n"),
        lambda root: (root / "web" / "pkg" / "main.py").write_text("print('changed')\n"),
        lambda root: (root / "web" / "pkg" / "new.py").write_text(""),
        lambda root: (root / "web" / "run.sh").chmod(0o755),
        lambda root: (root / "web" / "pkg" / "main.py").rename(root / "web" / "pkg" / "renamed.py"),
        lambda root: (root / "web" / "pkg" / "main.py").unlink(),
    ],
    ids=["containerfile", "file-content", "new-file", "exec-bit", "rename", "removed"],
)
def test_hash_changes_with_any_input(project: Path, change: object) -> None:
    before = content_hash(project, IMG, BASE, BASE_ID)
    change(project)  # type: ignore[operator]
    assert content_hash(project, IMG, BASE, BASE_ID) != before


def test_hash_changes_with_the_base(project: Path) -> None:
    before = content_hash(project, IMG, BASE, BASE_ID)
    assert content_hash(project, IMG, BASE.replace("0123", "9999"), BASE_ID) != before
    assert content_hash(project, IMG, BASE, "sha256:" + "b" * 64) != before


def test_hash_ignores_bytecode_and_containerignore(project: Path) -> None:
    before = content_hash(project, IMG, BASE, BASE_ID)
    (project / "web" / "pkg" / "__pycache__").mkdir()
    (project / "web" / "pkg" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (project / "web" / "stray.pyc").write_bytes(b"\0")
    assert content_hash(project, IMG, BASE, BASE_ID) == before
    (project / "web" / ".containerignore").write_text("# local junk\nnotes/\n*.log\n")
    with_ignore = content_hash(project, IMG, BASE, BASE_ID)
    assert with_ignore != before  # the ignore file itself is sent to podman
    (project / "web" / "notes").mkdir()
    (project / "web" / "notes" / "todo.txt").write_text("x")
    (project / "web" / "build.log").write_text("x")
    assert content_hash(project, IMG, BASE, BASE_ID) == with_ignore
    assert context_files(project / "web") == [".containerignore", "Containerfile", "pkg/main.py", "run.sh"]


def test_hash_of_the_real_workload_ignores_test_leftovers() -> None:
    workload = ImageDef("workload", "workload/Containerfile", "workload", "")
    files = context_files(REPO / "workload")
    assert "Containerfile" in files and "sandbox_web/server.py" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert len(content_hash(REPO, workload, BASE, BASE_ID)) == 16


def test_base_tag_follows_the_recipe_not_its_comment() -> None:
    recipe = json.loads((REPO / "images" / "base" / "recipe.json").read_text())
    tag = base_tag(recipe)
    assert base_tag({**recipe, "comment": "reworded"}) == tag
    assert base_tag({**recipe, "include": ["python3"]}) != tag
    assert base_tag({**recipe, "suite": "trixie"}) != tag


# --- no-op logic -----------------------------------------------------------------------------


def test_build_then_rebuild_is_a_no_op(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner(present=[BASE])
    b = builder(project, runner, tmp_path)
    first = b.build_image(IMG, BASE, BASE_ID)
    assert first.status == "built"
    assert first.ref == f"localhost/sandboxes/web:{content_hash(project, IMG, BASE, BASE_ID)}"
    [build] = runner.commands("build")
    assert "--pull=never" in build
    assert build[build.index("--build-arg") + 1] == f"BASE={BASE}"
    assert build[build.index("--tag") + 1] == first.ref
    assert build[-1] == str(project / "web")
    assert "--no-cache" not in build

    second = b.build_image(IMG, BASE, BASE_ID)
    assert second.status == "cached" and second.ref == first.ref
    assert len(runner.commands("build")) == 1  # nothing rebuilt

    (project / "web" / "pkg" / "main.py").write_text("print('v2')\n")
    third = b.build_image(IMG, BASE, BASE_ID)
    assert third.status == "built" and third.ref != first.ref
    assert len(runner.commands("build")) == 2


def test_forced_rebuild_skips_the_cache(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    b = builder(project, runner, tmp_path)
    ref = b.build_image(IMG, BASE, BASE_ID).ref
    forced = builder(project, runner, tmp_path, rebuild=frozenset({"web"}))
    outcome = forced.build_image(IMG, BASE, BASE_ID)
    assert outcome.status == "built" and outcome.ref == ref
    assert "--no-cache" in runner.commands("build")[-1]


def test_podman_options_are_passed_through(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    b = builder(project, runner, tmp_path, storage_driver="vfs", isolation="chroot", podman_root=tmp_path / "store")
    b.build_image(IMG, BASE, BASE_ID)
    build = runner.commands("build")[0]
    assert build[:5] == ["podman", "--storage-driver", "vfs", "--root", str(tmp_path / "store")]
    assert build[build.index("--isolation") + 1] == "chroot"
    exists = [c for c in runner.calls if "exists" in c]
    assert all(c[1:3] == ["--storage-driver", "vfs"] for c in exists)


def test_missing_containerfile_is_skipped_with_a_reason(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    other = ImageDef("seed", "seed-jobs/Containerfile", "seed-jobs", "the seed jobs (seed-jobs/)")
    outcome = builder(project, runner, tmp_path).build_image(other, BASE, BASE_ID)
    assert outcome.status == "skipped" and outcome.ref is None
    assert "seed-jobs/Containerfile does not exist yet" in outcome.detail
    assert "the seed jobs" in outcome.detail
    assert runner.calls == []


def test_failed_build_names_the_command(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner(fail="build")
    b = builder(project, runner, tmp_path)
    b.log_path = tmp_path / "images.log"
    expected = r"podman build of web failed \(exit 1\): podman build --pull=never .*images\.log"
    with pytest.raises(ImageError, match=expected):
        b.build_image(IMG, BASE, BASE_ID)


def test_base_is_made_once_from_the_recipe(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    b = builder(project, runner, tmp_path)
    first = b.ensure_base()
    assert first.status == "built"
    assert first.ref == b.base_ref()
    assert first.ref.startswith(f"localhost/sandboxes/{BASE_NAME}:")
    [mm] = runner.commands("mmdebstrap")
    assert "--mode=root" in mm and "--variant=minbase" in mm and "bookworm" in mm
    assert any(m.startswith("deb http://deb.debian.org/debian bookworm") for m in mm)
    [imp] = runner.commands("import")
    assert imp[-1] == first.ref and imp[-2] == mm[-4]
    assert 'CMD ["/bin/bash"]' in imp
    assert not list((tmp_path / "work").glob("*.tar")), "the root filesystem tarball is removed after import"

    again = b.ensure_base()
    assert again.status == "cached" and again.ref == first.ref
    assert len(runner.commands("mmdebstrap")) == 1


def test_base_needs_mmdebstrap_only_when_missing(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    b = builder(project, runner, tmp_path)
    b.which = lambda tool: None
    with pytest.raises(ImageError, match=r"mmdebstrap not found: install the Debian package 'mmdebstrap'"):
        b.ensure_base()
    runner.present.add(b.base_ref())
    assert b.ensure_base().status == "cached"


def test_save_and_containerd_import(project: Path, tmp_path: Path) -> None:
    runner = FakeRunner()
    sock = tmp_path / "containerd.sock"
    b = builder(project, runner, tmp_path, archive_dir=tmp_path / "archives", containerd_socket=sock)
    outcome = b.build_image(IMG, BASE, BASE_ID)
    assert outcome.archive == tmp_path / "archives" / f"web-{outcome.ref.rsplit(':', 1)[1]}.tar"  # type: ignore[union-attr]
    assert outcome.archive.read_bytes() == b"archive"  # type: ignore[union-attr]
    [save] = runner.commands("save")
    assert save[-1] == outcome.ref and "docker-archive" in save
    [imp] = [c for c in runner.calls if c[0] == "ctr" and "import" in c]
    assert imp[:5] == ["ctr", "--address", str(sock), "--namespace", "k8s.io"]
    assert imp[-1] == str(outcome.archive)
    # Unchanged: no new save (the archive exists), no new build.
    b.build_image(IMG, BASE, BASE_ID)
    assert len(runner.commands("save")) == 1 and len(runner.commands("build")) == 1
    # Changed: a new archive replaces the old one.
    (project / "web" / "pkg" / "main.py").write_text("print('v2')\n")
    changed = b.build_image(IMG, BASE, BASE_ID)
    assert sorted(p.name for p in (tmp_path / "archives").iterdir()) == [changed.archive.name]  # type: ignore[union-attr]


# --- the reference map and preflight ---------------------------------------------------------


def test_image_refs_roundtrip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOXES_DATA_DIR", str(tmp_path / "data"))
    assert image_refs() == {}
    refs = {"workload": "localhost/sandboxes/workload:abc", "postgres": "localhost/sandboxes/postgres:def"}
    path = write_refs(refs)
    assert path == tmp_path / "data" / "images.json"
    assert image_refs() == refs
    assert list(json.loads(path.read_text())) == ["postgres", "workload"]  # sorted: stable diffs
    path.write_text("[1, 2]")
    with pytest.raises(ImageError, match="make images"):
        image_refs()
    path.write_text("{not json")
    with pytest.raises(ImageError, match="not valid JSON"):
        image_refs()


def test_merged_refs_keeps_failed_and_drops_skipped() -> None:
    previous = {"seed": "s:old", "workload": "w:old", "postgres": "p:old"}
    outcomes = [
        Outcome("workload", "built", "w:new", 1.0),
        Outcome("seed", "skipped", None, 0.0, "no Containerfile"),
        Outcome("postgres", "failed", None, 0.0, "boom"),
        Outcome("device-simulator", "cached", "d:1", 0.0),
    ]
    assert merged_refs(previous, outcomes) == {"workload": "w:new", "postgres": "p:old", "device-simulator": "d:1"}


def test_preflight_says_what_to_do() -> None:
    with pytest.raises(ImageError) as err:
        preflight(which=lambda tool: None, euid=1000, containerd=True)
    message = str(err.value)
    assert "not running as root" in message
    assert "apt-get install podman" in message
    assert "ctr not found: apt-get install containerd" in message
    preflight(which=lambda tool: "/usr/bin/" + tool, euid=0, containerd=True)


def test_image_names_match_the_stack_defaults() -> None:
    from components.defaults import ProjectDefaults

    defaults = ProjectDefaults()
    repos = {d.name: d.repository for d in images.IMAGES}
    assert defaults.workload_image.rsplit(":", 1)[0] == repos["workload"]
    assert defaults.seed_image.rsplit(":", 1)[0] == repos["seed"]
    assert defaults.postgres_image.rsplit(":", 1)[0] == repos["postgres"]
    assert defaults.devices_image.rsplit(":", 1)[0] == repos["device-simulator"]
    for d in images.IMAGES:
        if (REPO / d.containerfile).is_file():
            text = (REPO / d.containerfile).read_text()
            assert "ARG BASE=debian:bookworm-slim" in text and "FROM ${BASE}" in text, d.containerfile
