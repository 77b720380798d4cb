"""The process environment every tool of the project runs in: Pulumi, kubectl, kwokctl.

Embedded defaults (our toolchain first on PATH, the embedded cluster's kubeconfig, a
local ``file://`` Pulumi backend with a generated passphrase) apply only where the
user has not said otherwise: an explicit ``KUBECONFIG``, ``PULUMI_BACKEND_URL`` or
``PULUMI_CONFIG_PASSPHRASE[_FILE]`` always wins, so the same commands drive a user's
own cluster and backend.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sandboxes.paths import data_dir, toolchain_bin_dir

PULUMI_QUIET = {
    "PULUMI_SKIP_UPDATE_CHECK": "true",
    "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
}


@dataclass(frozen=True)
class Environment:
    bin_dir: Path
    kubeconfig: Path
    kubeconfig_from_user: bool
    backend_url: str
    backend_from_user: bool
    passphrase_file: Path | None
    passphrase_from_user: bool

    def exports(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Variables to set on top of ``base`` (default: this process's environment)."""
        base = os.environ if base is None else base
        path = base.get("PATH", "")
        parts = [p for p in path.split(os.pathsep) if p and p != str(self.bin_dir)]
        out = {"PATH": os.pathsep.join([str(self.bin_dir), *parts]), **PULUMI_QUIET}
        out["KUBECONFIG"] = str(self.kubeconfig)
        out["PULUMI_BACKEND_URL"] = self.backend_url
        if self.passphrase_file is not None:
            out["PULUMI_CONFIG_PASSPHRASE_FILE"] = str(self.passphrase_file)
        return out

    def process_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """A full environment for a child process."""
        env = dict(os.environ if base is None else base)
        env.update(self.exports(env))
        return env


def _ensure_passphrase(path: Path) -> Path:
    """A local passphrase for the file backend's secrets, made once, readable only by its owner."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    return path


def embedded_kubeconfig() -> Path:
    return data_dir() / "cluster" / "kubeconfig"


def resolve(env: Mapping[str, str] | None = None, create: bool = True) -> Environment:
    env = os.environ if env is None else env
    ours_kube = embedded_kubeconfig()
    user_kube = env.get("KUBECONFIG")
    kube_from_user = bool(user_kube) and Path(user_kube or "") != ours_kube
    kubeconfig = Path(user_kube) if user_kube else ours_kube

    user_backend = env.get("PULUMI_BACKEND_URL")
    state = data_dir() / "pulumi" / "state"
    ours_backend = f"file://{state}"
    backend_from_user = bool(user_backend) and user_backend != ours_backend
    if not user_backend and create:
        state.mkdir(parents=True, exist_ok=True)
    backend = user_backend or ours_backend

    passphrase_file: Path | None
    from_user = "PULUMI_CONFIG_PASSPHRASE" in env or "PULUMI_CONFIG_PASSPHRASE_FILE" in env
    ours_pass = data_dir() / "pulumi" / "passphrase"
    if "PULUMI_CONFIG_PASSPHRASE_FILE" in env:
        passphrase_file = Path(env["PULUMI_CONFIG_PASSPHRASE_FILE"])
        from_user = passphrase_file != ours_pass
    elif "PULUMI_CONFIG_PASSPHRASE" in env:
        passphrase_file = None
    else:
        passphrase_file = _ensure_passphrase(ours_pass) if create else ours_pass
    return Environment(
        bin_dir=toolchain_bin_dir(),
        kubeconfig=kubeconfig,
        kubeconfig_from_user=kube_from_user,
        backend_url=backend,
        backend_from_user=backend_from_user,
        passphrase_file=passphrase_file,
        passphrase_from_user=from_user,
    )
