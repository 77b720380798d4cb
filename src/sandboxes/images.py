"""Container images without a registry: ``make images`` (``python -m sandboxes.images build``).

Why this exists: the sandboxes run on a node that pulls nothing (``imagePullPolicy:
IfNotPresent`` and no registry), so the project builds its own images locally, from
Debian's packages only:

1. a Debian root filesystem made by ``mmdebstrap`` from ``images/base/recipe.json``,
   imported with ``podman import`` as ``localhost/sandboxes/debian-base:<recipe hash>``;
2. each image from its one Containerfile (standard syntax: ``ARG BASE=debian:bookworm-slim``
   / ``FROM ${BASE}``, so the same file builds unchanged anywhere else) with
   ``podman build --pull=never --build-arg BASE=<that base>``;
3. tagged ``localhost/sandboxes/<name>:<content hash>``, where the hash covers the
   Containerfile, every build-context file (path, executable bit, bytes), the base tag and
   the base's image ID. An unchanged image is therefore never rebuilt (``podman image
   exists``), and a changed one can never hide behind an old tag;
4. the name → reference map is written to ``$SANDBOXES_DATA_DIR/images.json``, which the
   stack reads through ``image_refs()``.

Optionally each image is saved (``podman save``) to an archive and imported into a real
node's containerd (``ctr -n k8s.io images import``) when ``--containerd-socket`` is given.

The base tag is a hash of the recipe, not of the packages: Debian's mirror moves (security
updates) while the recipe stays. ``--rebuild debian-base`` refreshes it; the new base has a
new image ID, so every image built on it gets a new tag.

Full command output goes to a log file (``$SANDBOXES_CACHE/logs/images-*.log``); the
terminal shows progress and, on failure, the command, its exit status and the log's tail.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from sandboxes.paths import cache_dir, data_dir, project_root

__all__ = [
    "BASE_NAME",
    "IMAGES",
    "PREFIX",
    "BuildOptions",
    "ImageBuilder",
    "ImageDef",
    "ImageError",
    "LoggedRunner",
    "Outcome",
    "RunResult",
    "Runner",
    "base_tag",
    "content_hash",
    "context_files",
    "image_refs",
    "main",
    "preflight",
    "refs_path",
    "write_refs",
]

PREFIX = "localhost/sandboxes"
BASE_NAME = "debian-base"
BASE_RECIPE = "images/base/recipe.json"
REFS_FILE = "images.json"
# Bumped whenever what goes into a hash changes, so old tags are not reused by mistake.
HASH_FORMAT = "sandboxes-images/1"
HASH_LENGTH = 16
CONTENT_HASH_LABEL = "sandboxes.io/content-hash"
# Never part of an image's meaning, and churned by test runs in the same directories.
ALWAYS_IGNORED = ("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git")

# Which Debian package provides each tool, for the error that says what to install.
TOOL_PACKAGES = {"podman": "podman", "mmdebstrap": "mmdebstrap", "ctr": "containerd"}


@dataclass(frozen=True)
class ImageDef:
    """One image: its single Containerfile and build context, relative to the project root."""

    name: str
    containerfile: str
    context: str
    owner: str

    @property
    def repository(self) -> str:
        return f"{PREFIX}/{self.name}"


# The names match components/defaults.py (localhost/sandboxes/<name>).
IMAGES: tuple[ImageDef, ...] = (
    ImageDef("postgres", "images/postgres/Containerfile", "images/postgres", "images/ (this module)"),
    ImageDef("seed", "seed-jobs/Containerfile", "seed-jobs", "the seed jobs (seed-jobs/)"),
    ImageDef("device-simulator", "device-simulator/Containerfile", "device-simulator", "the device simulator"),
    ImageDef("workload", "workload/Containerfile", "workload", "the default workload (workload/)"),
)


class ImageError(Exception):
    """A build step failed or a prerequisite is missing; the message says what to do."""


# --- content hashes ------------------------------------------------------------------------


def _ignore_patterns(context: Path) -> list[str]:
    """Patterns of ``.containerignore`` (or ``.dockerignore``) plus the always-ignored ones.

    Negations (``!pattern``) are not honoured: hashing a file podman would not send only
    costs a needless rebuild, never a stale image, so erring towards more files is safe.
    """
    patterns = list(ALWAYS_IGNORED)
    for name in (".containerignore", ".dockerignore"):
        path = context / name
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if line and not line.startswith(("#", "!")):
                    patterns.append(line.strip("/"))
            break
    return patterns


def _ignored(rel: str, patterns: Sequence[str]) -> bool:
    base = rel.rsplit("/", 1)[-1]
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(base, bare) or fnmatch.fnmatchcase(rel, bare):
            return True
    return False


def context_files(context: Path) -> list[str]:
    """Every file of the build context that counts, as sorted POSIX paths relative to it."""
    if not context.is_dir():
        raise ImageError(f"build context {context} is not a directory")
    patterns = _ignore_patterns(context)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(context):
        rel_dir = Path(dirpath).relative_to(context).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames if not _ignored(prefix + d, patterns))
        found.extend(prefix + f for f in filenames if not _ignored(prefix + f, patterns))
    return sorted(found)


def _feed(h: Any, *parts: bytes | str) -> None:
    """Length-prefixed, so that no two different inputs concatenate to the same bytes."""
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(f"{len(data)}:".encode())
        h.update(data)


def content_hash(root: Path, image: ImageDef, base_ref: str, base_id: str) -> str:
    """The tag of ``image``: Containerfile + context files (path, exec bit, bytes) + base."""
    h = hashlib.sha256()
    _feed(h, HASH_FORMAT, image.name, base_ref, base_id)
    containerfile = root / image.containerfile
    _feed(h, "containerfile", containerfile.read_bytes())
    context = root / image.context
    for rel in context_files(context):
        path = context / rel
        executable = "x" if os.access(path, os.X_OK) else "-"
        if path.is_symlink():
            _feed(h, "link", rel, os.readlink(path))
        else:
            _feed(h, "file", rel, executable, hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:HASH_LENGTH]


def load_recipe(root: Path) -> dict[str, Any]:
    path = root / BASE_RECIPE
    try:
        recipe = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImageError(f"{path} is missing: it defines the Debian base image") from None
    except json.JSONDecodeError as err:
        raise ImageError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(recipe, dict):
        raise ImageError(f"{path}: expected a JSON object")
    for key in ("suite", "variant", "mirrors"):
        if key not in recipe:
            raise ImageError(f"{path}: missing {key!r}")
    return recipe


def base_tag(recipe: dict[str, Any]) -> str:
    """``debian-base``'s tag: a hash of the recipe (comments excluded) and of how it is made."""
    meaningful = {k: v for k, v in recipe.items() if k != "comment"}
    h = hashlib.sha256()
    _feed(h, HASH_FORMAT, "mmdebstrap --mode=root --format=tar", json.dumps(meaningful, sort_keys=True))
    return h.hexdigest()[:HASH_LENGTH]


# --- running commands ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    code: int
    stdout: str = ""


class Runner(Protocol):
    """Runs one command; tests pass a fake that records the calls."""

    def run(self, argv: Sequence[str], *, capture: bool = False) -> RunResult: ...


class LoggedRunner:
    """Runs commands for real, every line of their output appended to one log file."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path

    def run(self, argv: Sequence[str], *, capture: bool = False) -> RunResult:
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"\n$ {shlex.join(argv)}\n")
            log.flush()
            started = time.monotonic()
            try:
                proc = subprocess.run(
                    list(argv),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE if capture else log,
                    stderr=log,
                    text=True,
                    check=False,
                )
            except FileNotFoundError:
                log.write(f"[not found: {argv[0]}]\n")
                return RunResult(127)
            if capture and proc.stdout:
                log.write(proc.stdout if proc.stdout.endswith("\n") else proc.stdout + "\n")
            log.write(f"[exit {proc.returncode} after {time.monotonic() - started:.1f}s]\n")
        return RunResult(proc.returncode, proc.stdout or "")


# --- building --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildOptions:
    """How to call podman here; the defaults worked on the project's Debian 12 machines."""

    rebuild: frozenset[str] = frozenset()
    storage_driver: str | None = None
    podman_root: Path | None = None
    isolation: str | None = None
    archive_dir: Path | None = None
    containerd_socket: Path | None = None

    def podman(self) -> list[str]:
        argv = ["podman"]
        if self.storage_driver:
            argv += ["--storage-driver", self.storage_driver]
        if self.podman_root:
            argv += ["--root", str(self.podman_root)]
        return argv

    def forced(self, name: str) -> bool:
        return name in self.rebuild or "all" in self.rebuild


Status = Literal["built", "cached", "skipped", "failed"]


@dataclass(frozen=True)
class Outcome:
    name: str
    status: Status
    ref: str | None
    seconds: float
    detail: str = ""
    archive: Path | None = None


@dataclass
class ImageBuilder:
    """Builds the base and the images; every external effect goes through ``runner``."""

    root: Path
    runner: Runner
    options: BuildOptions = field(default_factory=BuildOptions)
    workdir: Path = field(default_factory=lambda: cache_dir() / "images")
    log_path: Path | None = None
    which: Callable[[str], str | None] = shutil.which

    def _fail(self, what: str, argv: Sequence[str], code: int) -> ImageError:
        where = f"; full log: {self.log_path}" if self.log_path else ""
        return ImageError(f"{what} failed (exit {code}): {shlex.join(argv)}{where}")

    def _need(self, tool: str) -> None:
        if self.which(tool) is None:
            raise ImageError(
                f"{tool} not found: install the Debian package '{TOOL_PACKAGES.get(tool, tool)}' "
                f"(apt-get install {TOOL_PACKAGES.get(tool, tool)}, or run .ci/install-image-tools)"
            )

    def exists(self, ref: str) -> bool:
        return self.runner.run([*self.options.podman(), "image", "exists", ref]).code == 0

    def image_id(self, ref: str) -> str:
        argv = [*self.options.podman(), "image", "inspect", "--format", "{{.Id}}", ref]
        result = self.runner.run(argv, capture=True)
        if result.code != 0 or not result.stdout.strip():
            raise self._fail(f"reading the image ID of {ref}", argv, result.code)
        return result.stdout.strip()

    def base_ref(self) -> str:
        return f"{PREFIX}/{BASE_NAME}:{base_tag(load_recipe(self.root))}"

    def ensure_base(self) -> Outcome:
        """``debian-base`` from the recipe: mmdebstrap → tar → podman import (skipped when present)."""
        started = time.monotonic()
        recipe = load_recipe(self.root)
        ref = f"{PREFIX}/{BASE_NAME}:{base_tag(recipe)}"
        if not self.options.forced(BASE_NAME) and self.exists(ref):
            return Outcome(BASE_NAME, "cached", ref, time.monotonic() - started)
        self._need("mmdebstrap")
        self.workdir.mkdir(parents=True, exist_ok=True)
        tarball = self.workdir / f"{BASE_NAME}-{ref.rsplit(':', 1)[1]}.tar"
        argv = [
            "mmdebstrap",
            "--mode=root",
            "--format=tar",
            f"--variant={recipe['variant']}",
            f"--components={','.join(recipe.get('components', ['main']))}",
        ]
        if recipe.get("include"):
            argv.append(f"--include={','.join(recipe['include'])}")
        argv += [f"--dpkgopt={opt}" for opt in recipe.get("dpkgopts", [])]
        argv += [f"--aptopt={opt}" for opt in recipe.get("aptopts", [])]
        argv += [recipe["suite"], str(tarball), *recipe["mirrors"]]
        try:
            result = self.runner.run(argv)
            if result.code != 0:
                raise self._fail("mmdebstrap (the Debian root filesystem)", argv, result.code)
            changes = [
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"CMD {json.dumps(recipe.get('cmd', ['/bin/bash']))}",
                f"LABEL {CONTENT_HASH_LABEL}={ref.rsplit(':', 1)[1]}",
            ]
            imp = [*self.options.podman(), "import"]
            for change in changes:
                imp += ["--change", change]
            imp += ["--message", f"mmdebstrap {recipe['suite']} {recipe['variant']} ({BASE_RECIPE})", str(tarball), ref]
            result = self.runner.run(imp)
            if result.code != 0:
                raise self._fail("podman import of the Debian base", imp, result.code)
        finally:
            tarball.unlink(missing_ok=True)
        return Outcome(BASE_NAME, "built", ref, time.monotonic() - started)

    def ref_for(self, image: ImageDef, base_ref: str, base_id: str) -> str:
        return f"{image.repository}:{content_hash(self.root, image, base_ref, base_id)}"

    def build_image(self, image: ImageDef, base_ref: str, base_id: str) -> Outcome:
        """``podman build`` of one image, unless its content-hash tag already exists."""
        started = time.monotonic()
        containerfile = self.root / image.containerfile
        if not containerfile.is_file():
            return Outcome(
                image.name,
                "skipped",
                None,
                0.0,
                f"{image.containerfile} does not exist yet (written by {image.owner}): skipped",
            )
        ref = self.ref_for(image, base_ref, base_id)
        forced = self.options.forced(image.name)
        if not forced and self.exists(ref):
            outcome = Outcome(image.name, "cached", ref, time.monotonic() - started)
        else:
            argv = [*self.options.podman(), "build", "--pull=never"]
            if self.options.isolation:
                argv += ["--isolation", self.options.isolation]
            if forced:
                argv.append("--no-cache")
            ca_bundle = _build_ca_bundle()
            if ca_bundle is not None:
                argv += ["--secret", f"id=pip-ca,src={ca_bundle}"]
            argv += [
                "--file",
                str(containerfile),
                "--build-arg",
                f"BASE={base_ref}",
                "--label",
                f"{CONTENT_HASH_LABEL}={ref.rsplit(':', 1)[1]}",
                "--tag",
                ref,
                str(self.root / image.context),
            ]
            result = self.runner.run(argv)
            if result.code != 0:
                raise self._fail(f"podman build of {image.name}", argv, result.code)
            if not self.exists(ref):
                raise ImageError(f"podman build of {image.name} succeeded but {ref} does not exist")
            outcome = Outcome(image.name, "built", ref, time.monotonic() - started)
        archive = self.export(image.name, ref)
        return Outcome(outcome.name, outcome.status, ref, time.monotonic() - started, outcome.detail, archive)

    def export(self, name: str, ref: str) -> Path | None:
        """``podman save`` (when an archive dir or containerd socket is set) and ``ctr import``."""
        opts = self.options
        if opts.archive_dir is None and opts.containerd_socket is None:
            return None
        archive_dir = opts.archive_dir or (self.workdir / "archives")
        archive_dir.mkdir(parents=True, exist_ok=True)
        archive = archive_dir / f"{name}-{ref.rsplit(':', 1)[1]}.tar"
        if not archive.is_file() or archive.stat().st_size == 0:
            partial = archive.with_suffix(".tar.partial")
            partial.unlink(missing_ok=True)
            argv = [*opts.podman(), "save", "--format", "docker-archive", "--output", str(partial), ref]
            result = self.runner.run(argv)
            if result.code != 0:
                partial.unlink(missing_ok=True)
                raise self._fail(f"podman save of {name}", argv, result.code)
            partial.replace(archive)
            # Older archives of this image are superseded (each is hundreds of MB): keep only this one.
            for stale in archive_dir.glob(f"{name}-*.tar"):
                if stale != archive and len(stale.name) == len(archive.name):
                    stale.unlink(missing_ok=True)
        if opts.containerd_socket is not None:
            self._need("ctr")
            ctr = ["ctr", "--address", str(opts.containerd_socket), "--namespace", "k8s.io"]
            listed = self.runner.run([*ctr, "images", "ls", "--quiet"], capture=True)
            if listed.code != 0:
                raise self._fail(
                    f"listing containerd's images (is containerd listening on {opts.containerd_socket}?)",
                    [*ctr, "images", "ls", "--quiet"],
                    listed.code,
                )
            if ref not in listed.stdout.split():
                argv = [*ctr, "images", "import", str(archive)]
                result = self.runner.run(argv)
                if result.code != 0:
                    raise self._fail(f"ctr import of {name}", argv, result.code)
        return archive


# --- the reference map -----------------------------------------------------------------------


def refs_path() -> Path:
    return data_dir() / REFS_FILE


def image_refs(path: Path | None = None) -> dict[str, str]:
    """``{name: "localhost/sandboxes/<name>:<hash>"}`` of the last ``make images``; ``{}`` before one."""
    path = path or refs_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as err:
        raise ImageError(f"{path}: not valid JSON ({err.msg}); run `make images` to rewrite it") from None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ImageError(f"{path}: expected an object of image name to reference; run `make images` to rewrite it")
    return dict(raw)


def write_refs(refs: dict[str, str], path: Path | None = None) -> Path:
    """Atomically (rename), so a reader never sees half a file."""
    path = path or refs_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dict(sorted(refs.items())), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def merged_refs(previous: dict[str, str], outcomes: Sequence[Outcome]) -> dict[str, str]:
    """The previous map updated by this run: built/cached set, skipped (no Containerfile) removed.

    A failed image keeps its previous reference: that image exists and is the last good one.
    """
    refs = dict(previous)
    for outcome in outcomes:
        if outcome.ref is not None:
            refs[outcome.name] = outcome.ref
        elif outcome.status == "skipped":
            refs.pop(outcome.name, None)
    return refs


# --- command line ----------------------------------------------------------------------------


def preflight(
    which: Callable[[str], str | None] = shutil.which, euid: int | None = None, containerd: bool = False
) -> None:
    """Refuse early, naming what to install or how to run, instead of failing half-way."""
    problems = []
    uid = os.geteuid() if euid is None else euid
    if uid != 0:
        problems.append(
            "not running as root: mmdebstrap --mode=root and podman's system image store need root "
            "(run `sudo make images`)"
        )
    tools = ["podman", "ctr"] if containerd else ["podman"]
    for tool in tools:
        if which(tool) is None:
            problems.append(f"{tool} not found: apt-get install {TOOL_PACKAGES[tool]} (or run .ci/install-image-tools)")
    if problems:
        raise ImageError("; ".join(problems))


def _log_path() -> Path:
    logs = cache_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / f"images-{datetime.now():%Y%m%d-%H%M%S}.log"
    path.touch()
    latest = logs / "images-latest.log"
    latest.unlink(missing_ok=True)
    latest.symlink_to(path.name)
    return path


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def build(names: Sequence[str], options: BuildOptions) -> int:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console(stderr=True)
    known = {image.name: image for image in IMAGES}
    unknown = [n for n in names if n not in known]
    if unknown:
        console.print(f"[red]error:[/] unknown image(s) {', '.join(unknown)}: choose among {', '.join(known)}")
        return 2
    selected = [known[n] for n in names] if names else list(IMAGES)
    try:
        preflight(containerd=options.containerd_socket is not None)
    except ImageError as err:
        console.print(f"[red]error:[/] {escape(str(err))}")
        return 1
    root = project_root()
    log = _log_path()
    builder = ImageBuilder(root=root, runner=LoggedRunner(log), options=options, log_path=log)
    console.print(f"[bold]images[/] from {root}  log {log}")
    outcomes: list[Outcome] = []
    started = time.monotonic()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
        buildable = [i for i in selected if (root / i.containerfile).is_file()]
        for image in selected:
            if image not in buildable:
                outcome = builder.build_image(image, "", "")
                outcomes.append(outcome)
                progress.add_task(f"[yellow]{image.name}: skipped[/]", total=1, completed=1)
                progress.console.print(f"[yellow]{image.name}:[/] {escape(outcome.detail)}")
        if not buildable:
            console.print("[yellow]nothing to build[/]")
            return 0
        task = progress.add_task(f"{BASE_NAME}: checking (mmdebstrap + podman import when missing)", total=1)
        try:
            base = builder.ensure_base()
            assert base.ref is not None
            base_id = builder.image_id(base.ref)
        except ImageError as err:
            progress.update(task, completed=1, description=f"[red]{BASE_NAME}: failed[/]")
            _report(progress.console, err, log)
            return 1
        outcomes.append(base)
        progress.update(task, completed=1, description=f"{BASE_NAME}: {base.status} {base.ref} ({base.seconds:.1f}s)")
        # One image failing does not stop the others: each is independent once the base exists.
        for image in buildable:
            task = progress.add_task(f"{image.name}: building (podman build)", total=1)
            try:
                outcome = builder.build_image(image, base.ref, base_id)
            except ImageError as err:
                outcome = Outcome(image.name, "failed", None, 0.0, str(err))
                progress.update(task, completed=1, description=f"[red]{image.name}: failed[/]")
                _report(progress.console, err, log)
                outcomes.append(outcome)
                continue
            outcomes.append(outcome)
            colour = "green" if outcome.status == "built" else "cyan"
            progress.update(
                task,
                completed=1,
                description=f"{image.name}: [{colour}]{outcome.status}[/] {outcome.ref} ({outcome.seconds:.1f}s)",
            )
    path = write_refs(merged_refs(image_refs(), [o for o in outcomes if o.name != BASE_NAME]))
    table = Table("image", "status", "reference", "seconds")
    for outcome in outcomes:
        shown = outcome.ref or (outcome.detail if outcome.status == "skipped" else "see the error above")
        table.add_row(outcome.name, outcome.status, shown, f"{outcome.seconds:.1f}")
    console.print(table)
    failed = [o.name for o in outcomes if o.status == "failed"]
    elapsed = time.monotonic() - started
    if failed:
        console.print(
            f"[bold red]{len(failed)} image(s) failed[/] ({', '.join(failed)}) in {elapsed:.1f}s; "
            f"the others' references are in {path} (a failed image keeps its previous reference, if any)"
        )
        return 1
    console.print(f"[bold green]images ready[/] in {elapsed:.1f}s; references in {path}")
    return 0


def _report(console: Any, err: ImageError, log: Path) -> None:
    from rich.markup import escape

    console.print(f"[red]error:[/] {escape(str(err))}")
    tail = _tail(log)
    if tail:
        console.print(f"[dim]last lines of {log}:[/]")
        console.print(tail, markup=False, highlight=False)


def _build_ca_bundle() -> Path | None:
    """The CA bundle this machine's own pip trusts, offered to builds as the optional secret ``pip-ca``.

    Machines behind a TLS-intercepting proxy trust an extra authority that a fresh Debian
    image does not; a secret (never a layer) lets a build's pip trust it too.
    """
    for candidate in (os.environ.get("SANDBOXES_BUILD_CA_BUNDLE"), os.environ.get("PIP_CERT"),
                      os.environ.get("REQUESTS_CA_BUNDLE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.images", description="Build the project's images.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build (or reuse) the base and the project's images")
    b.add_argument("names", nargs="*", metavar="IMAGE", help=f"only these ({', '.join(i.name for i in IMAGES)})")
    b.add_argument(
        "--rebuild", action="append", default=[], metavar="NAME", help=f"force a rebuild ({BASE_NAME}, an image, all)"
    )
    b.add_argument("--storage-driver", help="podman --storage-driver (e.g. vfs where overlay is unavailable)")
    b.add_argument("--podman-root", type=Path, help="podman --root: a separate image store")
    b.add_argument("--isolation", help="podman build --isolation (e.g. chroot where runc cannot start)")
    b.add_argument("--archive-dir", type=Path, help="also podman save each image to DIR/<name>-<hash>.tar")
    b.add_argument(
        "--containerd-socket", type=Path, help="also import each image into this containerd (namespace k8s.io)"
    )
    sub.add_parser("refs", help=f"print the name → reference map ({REFS_FILE} in the data dir)")
    args = parser.parse_args(argv)
    if args.command == "refs":
        try:
            print(json.dumps(image_refs(), indent=2))
        except ImageError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        return 0
    options = BuildOptions(
        rebuild=frozenset(args.rebuild),
        storage_driver=args.storage_driver,
        podman_root=args.podman_root,
        isolation=args.isolation,
        archive_dir=args.archive_dir,
        containerd_socket=args.containerd_socket,
    )
    return build(args.names, options)


if __name__ == "__main__":
    raise SystemExit(main())
