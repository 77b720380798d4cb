"""One real build: the workload image from the real Debian base, then run inside podman.

Skipped (with the reason) where it cannot run: not root, or podman/mmdebstrap missing
(install them with .ci/install-image-tools). Cold, the base takes about 80 s here
(mmdebstrap); warm, only the workload is rebuilt (forced, ~10 s) so the test always
proves a build rather than finding an old image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sandboxes.images import IMAGES, BuildOptions, ImageBuilder, LoggedRunner

REPO = Path(__file__).resolve().parents[2]

# podman's default container rlimits (nofile 1048576, nproc 32768) cannot be set on these
# machines: the process lacks CAP_SYS_RESOURCE, and runc fails with "error setting rlimit
# type 7: operation not permitted". Modest explicit limits work.
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

pytestmark = [
    pytest.mark.images,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mmdebstrap --mode=root, podman system store)"),
]


@pytest.fixture(autouse=True)
def _image_tools() -> None:
    """A missing tool is a failure with the fix, never a skip: CI installs them (.ci/install-image-tools)."""
    absent = [tool for tool in ("podman", "mmdebstrap") if shutil.which(tool) is None]
    if absent:
        pytest.fail(f"{', '.join(absent)} missing: run .ci/install-image-tools", pytrace=False)


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=False)


def test_workload_image_builds_and_runs(tmp_path: Path) -> None:
    log = tmp_path / "images.log"
    builder = ImageBuilder(
        root=REPO,
        runner=LoggedRunner(log),
        options=BuildOptions(rebuild=frozenset({"workload"})),
        log_path=log,
    )
    base = builder.ensure_base()
    assert base.ref is not None
    workload = next(i for i in IMAGES if i.name == "workload")
    started = time.monotonic()
    outcome = builder.build_image(workload, base.ref, builder.image_id(base.ref))
    built_in = time.monotonic() - started
    assert outcome.status == "built", log.read_text()[-3000:]
    assert outcome.ref is not None and outcome.ref.startswith("localhost/sandboxes/workload:")
    assert podman("image", "exists", outcome.ref).returncode == 0

    inspect = json.loads(podman("image", "inspect", outcome.ref).stdout)[0]
    config = inspect["Config"]
    assert config["User"] == "10001:10001"
    assert config["Cmd"] == ["python3", "-m", "sandbox_web", "--port", "8080", "--config-dir", "/etc/sandbox"]
    assert config["Labels"]["sandboxes.io/content-hash"] == outcome.ref.rsplit(":", 1)[1]

    # No-op: the same inputs give the same tag, and nothing is built.
    unforced = ImageBuilder(root=REPO, runner=LoggedRunner(log), log_path=log)
    again = unforced.build_image(workload, base.ref, unforced.image_id(base.ref))
    assert again.status == "cached" and again.ref == outcome.ref

    helped = podman("run", "--rm", "--network", "none", *ULIMITS, outcome.ref, "python3", "-m", "sandbox_web", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--config-dir" in helped.stdout

    # The page itself, inside the container, from a mounted config dir (as the ConfigMap would be).
    cfg = tmp_path / "etc-sandbox"
    cfg.mkdir()
    (cfg / "sandbox.json").write_text(json.dumps({"slug": "sandbox-img001", "name": "Image Test", "modules": ["cpo"]}))
    (cfg / "settings.json").write_text(json.dumps({"look_and_feel": {"light": {"primary": "#123456"}}}))
    cfg.chmod(0o755)
    for f in cfg.iterdir():
        f.chmod(0o644)
    name = f"sandboxes-test-{uuid.uuid4().hex[:8]}"
    started_ctr = podman(
        "run", "-d", "--name", name, "--network", "none", *ULIMITS,
        "-v", f"{cfg}:/etc/sandbox:ro", outcome.ref,
    )
    assert started_ctr.returncode == 0, started_ctr.stderr
    try:
        fetch = (
            "import sys,time,urllib.request\n"
            "for _ in range(50):\n"
            "    try:\n"
            "        print(urllib.request.urlopen('http://127.0.0.1:8080' + sys.argv[1]).read().decode()); break\n"
            "    except OSError: time.sleep(0.1)\n"
            "else: sys.exit(1)\n"
        )
        health = podman("exec", name, "python3", "-c", fetch, "/healthz")
        assert health.returncode == 0 and health.stdout.strip() == "ok", health.stderr
        page = podman("exec", name, "python3", "-c", fetch, "/")
        assert "Sandbox mode" in page.stdout
        assert "<h1>Image Test" in page.stdout
        assert "--primary: #123456;" in page.stdout
        whoami = podman("exec", name, "id", "-u")
        assert whoami.stdout.strip() == "10001"
    finally:
        podman("rm", "-f", "-t", "2", name)
    print(f"workload image {outcome.ref} built in {built_in:.1f}s (base {base.status} in {base.seconds:.1f}s)")
