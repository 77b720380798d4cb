"""Where the project keeps things outside the repository.

Three roots, each overridable by one environment variable, so that a CI cache, a
shared build machine or a test can move them without touching code:

- ``SANDBOXES_CACHE``: built toolchain binaries and the Go caches (large, rebuildable).
- ``SANDBOXES_DATA_DIR``: the embedded cluster, the local Pulumi backend and its
  passphrase, the API's records (small, precious: this is the state).
- ``SANDBOXES_THIRD_PARTY``: upstream sources the Go proxy does not serve.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout holding ``Pulumi.yaml``: the one Pulumi program every interface drives."""
    explicit = os.environ.get("SANDBOXES_PROJECT_DIR")
    if explicit:
        return Path(explicit).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "Pulumi.yaml").is_file() and (candidate / "components").is_dir():
                return candidate
    raise RuntimeError(
        "cannot find the sandboxes project (Pulumi.yaml next to components/): "
        "run from the checkout or set SANDBOXES_PROJECT_DIR"
    )


def cache_dir() -> Path:
    explicit = os.environ.get("SANDBOXES_CACHE")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().resolve() / "sandboxes"


def data_dir() -> Path:
    explicit = os.environ.get("SANDBOXES_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser().resolve() / "sandboxes"


def shared_dir() -> Path:
    """The folder shared next to the checkout (``../shared``): third-party sources and test data.

    ``SANDBOXES_SHARED_DIR`` points elsewhere, e.g. for a clone made outside that layout.
    """
    explicit = os.environ.get("SANDBOXES_SHARED_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    return (project_root().parent / "shared").resolve()


def third_party_dir() -> Path:
    explicit = os.environ.get("SANDBOXES_THIRD_PARTY")
    if explicit:
        return Path(explicit).expanduser().resolve()
    return shared_dir() / "third_party"


def toolchain_bin_dir() -> Path:
    """The directory put first on PATH: one entry per tool, pointing at the pinned build."""
    return cache_dir() / "bin"
