"""Obtain every third-party binary the project runs, reproducibly and without downloads of binaries.

Each component is either found on PATH at a compatible version (a user who installed
Pulumi or Kubernetes the usual way keeps theirs) or built with the ordinary ``go``
client from the Go module proxy, or, for the two modules the proxy refuses, from the
upstream sources in ``SANDBOXES_THIRD_PARTY``. Results live in
``$SANDBOXES_CACHE/tools/<component>/<version>/`` with a completion stamp, so a warm
run is a handful of ``stat`` calls, and a changed pin rebuilds exactly one component.
``$SANDBOXES_CACHE/bin`` holds one symlink per tool, pointing at the pinned build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandboxes.paths import cache_dir, project_root, third_party_dir, toolchain_bin_dir
from sandboxes.toolchain.pins import Pins, load_pins

STAMP = ".complete"
# The Python language host, its exec shim and the dynamic-resource provider: all bundled next to pulumi.
PYTHON_HOST_FILES = ("pulumi-language-python", "pulumi-language-python-exec", "pulumi-resource-pulumi-python")


class ToolchainError(RuntimeError):
    """A component could not be obtained; names what, how, and where the full log is."""

    def __init__(self, component: str, command: Sequence[str], log: Path, detail: str) -> None:
        self.component = component
        self.command = list(command)
        self.log = log
        super().__init__(
            f"toolchain component {component!r} failed: {detail}\n"
            f"  command: {' '.join(self.command)}\n"
            f"  full log: {log}"
        )


@dataclass
class BuildContext:
    """What a recipe needs: the pins, a logged command runner and the Go environment."""

    pins: Pins
    log_path: Path
    component: str = ""

    @property
    def go_env(self) -> dict[str, str]:
        root = cache_dir() / "go"
        env = dict(os.environ)
        env.update(
            GOMODCACHE=str(root / "mod"),
            GOCACHE=str(root / "build"),
            GOFLAGS="-buildvcs=false -trimpath",
            GOTOOLCHAIN="local",
        )
        return env

    def run(
        self,
        cmd: Sequence[str],
        cwd: Path | None = None,
        extra_env: dict[str, str] | None = None,
        capture: bool = False,
    ) -> str:
        env = self.go_env
        env.update(extra_env or {})
        with self.log_path.open("a") as log:
            log.write(f"\n$ (cd {cwd or Path.cwd()}) {' '.join(cmd)}\n")
            log.flush()
            proc = subprocess.run(
                list(cmd),
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE if capture else log,
                stderr=log,
                text=True,
                check=False,
            )
            if capture and proc.stdout:
                log.write(proc.stdout)
        if proc.returncode != 0:
            tail = _tail(self.log_path, 6)
            raise ToolchainError(self.component, cmd, self.log_path, f"exit {proc.returncode}\n{tail}")
        return proc.stdout or ""

    def module_dir(self, module: str, version: str) -> Path:
        """Download a module (source only) and return its read-only directory in the module cache."""
        out = self.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture=True)
        return Path(json.loads(out)["Dir"])


def _tail(path: Path, lines: int) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join("    " + line for line in text[-lines:])


def _fresh_copy(src: Path, dest: Path) -> Path:
    """Copy upstream sources into a writable build directory: never build in place."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, symlinks=True)
    for path in [dest, *dest.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    return dest


def _ldflags(*pairs: tuple[str, str]) -> str:
    return "-s -w " + " ".join(f"-X {k}={v}" for k, v in pairs)


# --- recipes -----------------------------------------------------------------------------
# Each recipe writes its binaries into ``out``. Wrapper modules live in toolchain/modules.


def _wrapper(name: str) -> Path:
    return project_root() / "toolchain" / "modules" / name


def build_pulumi(ctx: BuildContext, out: Path) -> None:
    v = ctx.pins.pulumi
    ctx.run(
        [
            "go", "build", "-o", str(out / "pulumi"),
            "-ldflags", _ldflags(("github.com/pulumi/pulumi/sdk/v3/go/common/version.Version", f"v{v}")),
            "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        ],
        cwd=_wrapper("pulumi"),
    )


def build_language_python(ctx: BuildContext, out: Path) -> None:
    v = ctx.pins.pulumi
    src = third_party_dir() / "pulumi-language-python"
    if not (src / "main.go").is_file():
        raise ToolchainError(
            ctx.component, ["test", "-f", str(src / "main.go")], ctx.log_path,
            "upstream source missing: set SANDBOXES_THIRD_PARTY to the folder holding "
            "pulumi-language-python (the Go proxy does not serve this module)",
        )
    work = _fresh_copy(src, cache_dir() / "src" / f"pulumi-language-python-{v}")
    ctx.run(
        [
            "go", "mod", "edit",
            "-dropreplace", "github.com/pulumi/pulumi/pkg/v3",
            "-dropreplace", "github.com/pulumi/pulumi/sdk/v3",
            "-require", f"github.com/pulumi/pulumi/pkg/v3@v{v}",
            "-require", f"github.com/pulumi/pulumi/sdk/v3@v{v}",
        ],
        cwd=work,
    )
    ctx.run(["go", "mod", "tidy"], cwd=work)
    ctx.run(
        [
            "go", "build", "-o", str(out / "pulumi-language-python"),
            "-ldflags", _ldflags(("github.com/pulumi/pulumi/sdk/v3/go/common/version.Version", f"v{v}")),
            ".",
        ],
        cwd=work,
    )
    sdk = ctx.module_dir("github.com/pulumi/pulumi/sdk/v3", f"v{v}")
    exec_shim = out / "pulumi-language-python-exec"
    shutil.copyfile(sdk / "python" / "cmd" / "pulumi-language-python-exec", exec_shim)
    exec_shim.chmod(0o755)
    # The provider that runs Python dynamic resources; Pulumi ships it bundled next to its CLI.
    dynamic = out / "pulumi-resource-pulumi-python"
    shutil.copyfile(sdk / "python" / "dist" / "pulumi-resource-pulumi-python", dynamic)
    dynamic.chmod(0o755)


def build_random(ctx: BuildContext, out: Path) -> None:
    v = ctx.pins.pulumi_random
    src = third_party_dir() / "pulumi-random-provider"
    if not (src / "go.mod").is_file():
        raise ToolchainError(
            ctx.component, ["test", "-f", str(src / "go.mod")], ctx.log_path,
            "upstream source missing: set SANDBOXES_THIRD_PARTY to the folder holding "
            "pulumi-random-provider (the Go proxy does not serve this module)",
        )
    work = _fresh_copy(src, cache_dir() / "src" / f"pulumi-random-provider-{v}")
    ctx.run(["go", "run", "./generate.go"], cwd=work / "cmd" / "pulumi-resource-random", extra_env={"VERSION": v})
    ctx.run(
        [
            "go", "build", "-o", str(out / "pulumi-resource-random"),
            "-ldflags", _ldflags(("github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version", v)),
            "./cmd/pulumi-resource-random",
        ],
        cwd=work,
    )


def build_kubernetes_provider(ctx: BuildContext, out: Path) -> None:
    v = ctx.pins.pulumi_kubernetes
    module = "github.com/pulumi/pulumi-kubernetes/provider/v4"
    cached = ctx.module_dir(module, ctx.pins.pulumi_kubernetes_module_version)
    work = _fresh_copy(cached, cache_dir() / "src" / f"pulumi-kubernetes-provider-{v}")
    ctx.run(["go", "mod", "edit", "-dropreplace", "github.com/pulumi/pulumi-kubernetes/sdk/v4"], cwd=work)
    ctx.run(["go", "mod", "tidy"], cwd=work)
    ctx.run(["go", "run", "./generate.go"], cwd=work / "cmd" / "pulumi-resource-kubernetes", extra_env={"VERSION": v})
    ctx.run(
        [
            "go", "build", "-o", str(out / "pulumi-resource-kubernetes"),
            "-ldflags", _ldflags(("github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version", v)),
            "./cmd/pulumi-resource-kubernetes",
        ],
        cwd=work,
    )


def _kube_ldflags(v: str) -> str:
    major, minor = v.split(".")[:2]
    pairs: list[tuple[str, str]] = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        pairs += [
            (f"{pkg}.gitVersion", f"v{v}"),
            (f"{pkg}.gitMajor", major),
            (f"{pkg}.gitMinor", minor),
            (f"{pkg}.gitTreeState", "clean"),
        ]
    return _ldflags(*pairs)


def kube_recipe(binary: str) -> Callable[[BuildContext, Path], None]:
    def build(ctx: BuildContext, out: Path) -> None:
        ctx.run(
            [
                "go", "build", "-o", str(out / binary),
                "-ldflags", _kube_ldflags(ctx.pins.kubernetes),
                f"k8s.io/kubernetes/cmd/{binary}",
            ],
            cwd=_wrapper("kubernetes"),
        )

    return build


def build_etcd(ctx: BuildContext, out: Path) -> None:
    ctx.run(["go", "build", "-o", str(out / "etcd"), "go.etcd.io/etcd/server/v3"], cwd=_wrapper("etcd"))


def build_coredns(ctx: BuildContext, out: Path) -> None:
    """CoreDNS for the real node's cluster DNS, from the wrapper module pinning github.com/coredns/coredns."""
    v = _node_pin("coredns")
    ctx.run(
        [
            "go", "build", "-o", str(out / "coredns"),
            "-ldflags", _ldflags(("github.com/coredns/coredns/coremain.GitCommit", f"v{v}")),
            "github.com/coredns/coredns",
        ],
        cwd=_wrapper("coredns"),
        extra_env={"CGO_ENABLED": "0"},
    )


def build_traefik(ctx: BuildContext, out: Path) -> None:
    """Traefik, the real node's ingress controller, from the wrapper module pinning github.com/traefik/traefik/v3."""
    v = _node_pin("traefik")
    ctx.run(
        [
            "go", "build", "-o", str(out / "traefik"),
            "-ldflags", _ldflags(("github.com/traefik/traefik/v3/pkg/version.Version", v)),
            "github.com/traefik/traefik/v3/cmd/traefik",
        ],
        cwd=_wrapper("traefik"),
        extra_env={"CGO_ENABLED": "0"},
    )


def _node_pin(section: str) -> str:
    """Pins of the real node's extra components (read here so Pins stays as it is)."""
    import tomllib

    from sandboxes.toolchain.pins import versions_file

    return str(tomllib.loads(versions_file().read_text())[section]["version"])


def build_kwok(ctx: BuildContext, out: Path) -> None:
    v = ctx.pins.kwok
    ctx.run(
        ["go", "install", f"sigs.k8s.io/kwok/cmd/kwok@v{v}", f"sigs.k8s.io/kwok/cmd/kwokctl@v{v}"],
        extra_env={"GOBIN": str(out), "GOFLAGS": "-buildvcs=false"},
    )


# --- finding compatible binaries already installed ---------------------------------------

_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def _version_of(binary: Path, args: Sequence[str]) -> tuple[int, int, int] | None:
    try:
        proc = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION_RE.search(proc.stdout + proc.stderr)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _parse(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(x) for x in version.split(".")[:3])
    return major, minor, patch


def same_minor(pinned: str) -> Callable[[tuple[int, int, int]], bool]:
    return lambda found: found[:2] == _parse(pinned)[:2]


def at_least_same_major(pinned: str) -> Callable[[tuple[int, int, int]], bool]:
    want = _parse(pinned)
    return lambda found: found[0] == want[0] and found >= want


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    binaries: tuple[str, ...]
    recipe: Callable[[BuildContext, Path], None]
    version_args: tuple[str, ...] = ("--version",)
    compatible: Callable[[tuple[int, int, int]], bool] | None = None
    group: str = "core"
    note: str = ""
    # Plugins stay off PATH: Pulumi prefers (and warns about) any plugin found on PATH.
    # Providers go to the plugin cache; the language host sits next to the pulumi binary.
    expose: bool = True
    # Where an ordinary Pulumi install keeps this component (plugin cache, next to pulumi).
    installed: Callable[[], dict[str, Path] | None] | None = None

    @property
    def out_dir(self) -> Path:
        return cache_dir() / "tools" / self.name / self.version

    def built(self) -> bool:
        stamp = self.out_dir / STAMP
        return stamp.is_file() and all((self.out_dir / b).is_file() for b in self.binaries)

    def on_path(self) -> dict[str, Path] | None:
        """Compatible binaries already installed outside our cache, or None."""
        if self.compatible is None:
            return None
        ours = toolchain_bin_dir().resolve()
        search = os.pathsep.join(
            p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != ours
        )
        found: dict[str, Path] = {}
        for binary in self.binaries:
            located = shutil.which(binary, path=search)
            if located is None:
                return None
            found[binary] = Path(located)
        first = found[self.binaries[0]]
        version = _version_of(first, self.version_args)
        return found if version is not None and self.compatible(version) else None


def _pulumi_home() -> Path:
    return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")


def in_plugin_cache(name: str, version: str) -> Callable[[], dict[str, Path] | None]:
    """A provider already in Pulumi's plugin cache (``pulumi plugin install``, or a normal install)."""

    def find() -> dict[str, Path] | None:
        binary = _pulumi_home() / "plugins" / f"resource-{name}-v{version}" / f"pulumi-resource-{name}"
        return {f"pulumi-resource-{name}": binary} if binary.is_file() else None

    return find


def beside_installed_pulumi(pinned: str) -> Callable[[], dict[str, Path] | None]:
    """The language host that a compatible Pulumi, installed the usual way, bundles next to itself."""

    def find() -> dict[str, Path] | None:
        ours = toolchain_bin_dir().resolve()
        for entry in os.environ.get("PATH", "").split(os.pathsep):
            if not entry or Path(entry).resolve() == ours:
                continue
            pulumi = Path(entry) / "pulumi"
            if not pulumi.is_file():
                continue
            version = _version_of(pulumi, ("version",))
            if version is None or not at_least_same_major(pinned)(version):
                return None
            home = pulumi.resolve().parent
            found = {b: home / b for b in PYTHON_HOST_FILES}
            return found if all(p.is_file() for p in found.values()) else None
        return None

    return find


def components(pins: Pins | None = None) -> list[Component]:
    p = pins or load_pins()
    k = p.kubernetes
    return [
        Component("pulumi", p.pulumi, ("pulumi",), build_pulumi, ("version",), at_least_same_major(p.pulumi)),
        Component(
            "pulumi-language-python", p.pulumi,
            PYTHON_HOST_FILES, build_language_python,
            note="from SANDBOXES_THIRD_PARTY", expose=False, installed=beside_installed_pulumi(p.pulumi),
        ),
        Component("pulumi-resource-kubernetes", p.pulumi_kubernetes, ("pulumi-resource-kubernetes",),
                  build_kubernetes_provider, expose=False,
                  installed=in_plugin_cache("kubernetes", p.pulumi_kubernetes)),
        Component("pulumi-resource-random", p.pulumi_random, ("pulumi-resource-random",), build_random,
                  note="from SANDBOXES_THIRD_PARTY", expose=False,
                  installed=in_plugin_cache("random", p.pulumi_random)),
        Component("etcd", p.etcd, ("etcd",), build_etcd, ("--version",), same_minor(p.etcd)),
        Component("kwok", p.kwok, ("kwok", "kwokctl"), build_kwok),
        Component("kube-apiserver", k, ("kube-apiserver",), kube_recipe("kube-apiserver"), ("--version",),
                  same_minor(k)),
        Component("kube-controller-manager", k, ("kube-controller-manager",), kube_recipe("kube-controller-manager"),
                  ("--version",), same_minor(k)),
        Component("kube-scheduler", k, ("kube-scheduler",), kube_recipe("kube-scheduler"), ("--version",),
                  same_minor(k)),
        Component("kubectl", k, ("kubectl",), kube_recipe("kubectl"), ("version", "--client"), same_minor(k)),
        Component("kubelet", k, ("kubelet",), kube_recipe("kubelet"), ("--version",), same_minor(k), group="node"),
        Component("kube-proxy", k, ("kube-proxy",), kube_recipe("kube-proxy"), ("--version",), same_minor(k),
                  group="node"),
        Component("coredns", _node_pin("coredns"), ("coredns",), build_coredns, ("-version",),
                  same_minor(_node_pin("coredns")), group="node"),
        Component("traefik", _node_pin("traefik"), ("traefik",), build_traefik, ("version",),
                  same_minor(_node_pin("traefik")), group="node"),
    ]


@dataclass
class Outcome:
    component: Component
    source: str  # "cached", "built", "system"
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)


def _link(binaries: dict[str, Path], expose: bool = True) -> None:
    bin_dir = toolchain_bin_dir()
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, target in binaries.items():
        if not expose:
            stale = bin_dir / name
            if stale.is_symlink():
                stale.unlink()
            continue
        link = bin_dir / name
        if link.is_symlink() or link.exists():
            if link.is_symlink() and Path(os.readlink(link)) == target:
                continue
            link.unlink()
        link.symlink_to(target)


def obtain(
    component: Component,
    ctx: BuildContext,
    rebuild: bool = False,
) -> Outcome:
    """Use the cached build, a compatible installed binary, or build it: in that order."""
    started = time.monotonic()
    ctx.component = component.name
    if not rebuild and component.built():
        paths = {b: component.out_dir / b for b in component.binaries}
        _link(paths, component.expose)
        return Outcome(component, "cached", time.monotonic() - started, paths)
    system = None if rebuild else component.on_path() or (component.installed and component.installed())
    if system:
        _link(system, component.expose)
        return Outcome(component, "system", time.monotonic() - started, system)
    out = component.out_dir
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    component.recipe(ctx, out)
    missing = [b for b in component.binaries if not (out / b).is_file()]
    if missing:
        raise ToolchainError(component.name, ["ls", str(out)], ctx.log_path, f"build produced no {missing}")
    (out / STAMP).write_text(f"{component.name} {component.version}\n")
    paths = {b: out / b for b in component.binaries}
    _link(paths, component.expose)
    return Outcome(component, "built", time.monotonic() - started, paths)


def register_plugins(ctx: BuildContext, pins: Pins) -> list[str]:
    """Put the provider binaries into Pulumi's plugin cache so no run ever tries a download.

    A plugin found on PATH works too, but Pulumi warns on every run; the plugin cache is
    what an ordinary install uses. The cache follows PULUMI_HOME, like the CLI itself.
    """
    pulumi = str(toolchain_bin_dir() / "pulumi")
    ctx.component = "pulumi plugins"
    listed = json.loads(ctx.run([pulumi, "plugin", "ls", "--json"], capture=True) or "[]")
    have = {(p.get("name"), p.get("version")) for p in listed if p.get("kind") == "resource"}
    installed = []
    for name, version in (("kubernetes", pins.pulumi_kubernetes), ("random", pins.pulumi_random)):
        if (name, version) in have:
            continue
        binary = next(c for c in components(pins) if c.name == f"pulumi-resource-{name}").out_dir
        ctx.run([pulumi, "plugin", "install", "resource", name, version, "--file",
                 str(binary / f"pulumi-resource-{name}")])
        installed.append(f"{name} {version}")
    return installed


def bundle_language_host(outcomes: dict[str, Outcome]) -> str:
    """Put the Python language host next to the pulumi binary, where Pulumi looks for bundled hosts.

    Real files, not symlinks: the host finds its ``-exec`` shim next to its own resolved
    path, and Pulumi compares resolved paths. A pulumi found on PATH brings its own.
    """
    pulumi, host = outcomes.get("pulumi"), outcomes.get("pulumi-language-python")
    if pulumi is None or host is None or pulumi.source == "system":
        return "using the installed pulumi's own language host"
    target_dir = pulumi.paths["pulumi"].resolve().parent
    copied = []
    for name, source in host.paths.items():
        target = target_dir / name
        if target.exists() and target.stat().st_size == source.stat().st_size and \
                target.stat().st_mtime >= source.stat().st_mtime:
            continue
        shutil.copy2(source, target)
        copied.append(name)
    return f"bundled {', '.join(copied)}" if copied else "up to date"


def selected(groups: Iterable[str], pins: Pins | None = None) -> list[Component]:
    wanted = set(groups)
    return [c for c in components(pins) if c.group in wanted]


def missing(groups: Iterable[str] = ("core",)) -> list[str]:
    """What ``make toolchain`` still has to provide before the engine and the cluster can run."""
    bin_dir = toolchain_bin_dir()
    absent = []
    for component in selected(groups):
        if component.expose:
            absent += [b for b in component.binaries if not (bin_dir / b).exists()]
        elif not component.built() and not (component.installed and component.installed()):
            absent.append(component.name)
    return absent
