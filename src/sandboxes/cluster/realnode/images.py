"""Container images without a registry: static Go binaries packed as docker archives, imported with ctr."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

from sandboxes.cluster.realnode.base import _HERE, PAUSE_REPO, RealNodeError
from sandboxes.cluster.realnode.host import _run, containerd_socket, node_dir
from sandboxes.paths import cache_dir

# --- images without a registry ------------------------------------------------------------


def build_static_go(source: Path, name: str) -> Path:
    """``CGO_ENABLED=0 go build`` of a dependency-free main package, cached by its sources' hash."""
    digest = hashlib.sha256()
    for path in sorted(source.glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    out = cache_dir() / "tools" / name / digest.hexdigest()[:16]
    binary = out / name
    if binary.is_file():
        return binary
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(CGO_ENABLED="0", GOFLAGS="-buildvcs=false -trimpath", GOTOOLCHAIN="local",
               GOCACHE=str(cache_dir() / "go" / "build"), GOMODCACHE=str(cache_dir() / "go" / "mod"))
    proc = subprocess.run(["go", "build", "-ldflags", "-s -w", "-o", str(binary), "."], cwd=source, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RealNodeError(f"go build of {source} failed: {proc.stderr.strip()[:400]}")
    return binary


def image_archive(path: Path, ref: str, files: dict[str, tuple[bytes, int]], entrypoint: list[str],
                  cmd: list[str] | None = None) -> Path:
    """Write a docker-archive (``docker save`` layout) holding one layer with ``files``: ``ctr import`` reads it."""
    layer_buf = io.BytesIO()
    with tarfile.open(fileobj=layer_buf, mode="w", format=tarfile.USTAR_FORMAT) as layer:
        dirs: set[str] = set()
        for name in sorted(files):
            parts = name.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    layer.addfile(info)
                    dirs.add(d)
            data, mode = files[name]
            info = tarfile.TarInfo(name.strip("/"))
            info.size, info.mode = len(data), mode
            layer.addfile(info, io.BytesIO(data))
        for d in ("tmp", "etc"):
            if d not in dirs:
                info = tarfile.TarInfo(d)
                info.type, info.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
                layer.addfile(info)
    layer_bytes = layer_buf.getvalue()
    layer_id = hashlib.sha256(layer_bytes).hexdigest()
    config = {
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine),
        "os": "linux",
        "config": {"Entrypoint": entrypoint, "Cmd": cmd, "Env": ["PATH=/"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_id}"]},
        "history": [{"created_by": "sandboxes.cluster.realnode.image_archive"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_id = hashlib.sha256(config_bytes).hexdigest()
    manifest = [{"Config": f"{config_id}.json", "RepoTags": [ref], "Layers": [f"{layer_id}/layer.tar"]}]
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as archive:
        for name, data in ((f"{layer_id}/layer.tar", layer_bytes), (f"{config_id}.json", config_bytes),
                           ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def ctr(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return _run(["ctr", "--address", str(containerd_socket()), "--namespace", "k8s.io", *args], check=check,
                timeout=timeout)


def import_image(archive: Path) -> None:
    """Import an image archive into the real node's containerd (CRI namespace ``k8s.io``)."""
    ctr("images", "import", "--no-unpack=false", str(archive), timeout=300)


def has_image(ref: str) -> bool:
    proc = ctr("images", "ls", "-q", check=False)
    return ref in proc.stdout.split()


def _pause_image() -> str:
    binary = build_static_go(_HERE / "node" / "pause", "sandboxes-pause")
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:16]
    return f"{PAUSE_REPO}:{digest}"


def _ensure_pause_image(ref: str) -> None:
    if has_image(ref):
        return
    binary = build_static_go(_HERE / "node" / "pause", "sandboxes-pause")
    archive = image_archive(node_dir() / "images" / "pause.tar", ref, {"pause": (binary.read_bytes(), 0o755)},
                            ["/pause"])
    import_image(archive)


