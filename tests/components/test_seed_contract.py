"""Contract: the seed Job's command line, as the stack declares it, is accepted by the real seed program.

The command is read from the Job the program registers (under mocks), not from a copy,
and run as a local process with ``--dry-run`` (the seed program's own "validate
arguments and environment, touch no database" switch). kwok never runs the container,
so this is where the command itself is proven.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components import ProjectDefaults

from .harness import base_spec, render

SEED_JOBS = Path(__file__).resolve().parents[2] / "seed-jobs"
FAKE_URLS = {
    "url": "postgresql://sandbox:pw@localhost:5432/sandbox",
}


def job_container(spec: dict[str, Any], defaults: ProjectDefaults | None = None) -> dict[str, Any]:
    r = render(spec, defaults)
    job = next(o for o in r.of_type("kubernetes:batch/v1:Job"))
    return dict(job.inputs["spec"]["template"]["spec"]["containers"][0])


def container_env(container: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = f"postgresql://sandbox:pw@{ref['name']}:5432/sandbox"
    return env


def run_seed(container: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    command = container["command"]
    assert command[0] == "python3", "the image's interpreter is python3"
    argv = [sys.executable, *command[1:], *container["args"], "--dry-run"]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SEED_JOBS), **container_env(container)}
    return subprocess.run(argv, cwd=SEED_JOBS, env=env, capture_output=True, text=True, timeout=60, check=False)





@pytest.mark.parametrize(
    ("overrides", "defaults"),
    [
        ({"data": "blank", "modules": ["msp"]}, None),
        ({"data": "preconfigured", "modules": ["cpo", "msp"], "platform": {"size": "large"}}, None),
        ({"data": "copy", "parent": "sandbox-parent", "modules": ["cpo"]}, None),
        ({"data": "masked-copy", "parent": "sandbox-parent"}, ProjectDefaults(allow_masked_copy=True)),
        ({"data": "preconfigured", "modules": ["msp"], "data_generation": 3}, None),
    ],
)
def test_seed_program_accepts_the_jobs_command(overrides: dict[str, Any], defaults: ProjectDefaults | None) -> None:
    container = job_container(base_spec(**overrides), defaults)
    done = run_seed(container)
    assert done.returncode == 0, done.stderr
    assert "dry-run ok" in done.stdout
