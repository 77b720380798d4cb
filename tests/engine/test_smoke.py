"""Issue 2's smoke test: the real engine, the built plugins, the embedded API server.

One stack with a namespace, a random password in a Secret, a Deployment, a Service,
an Ingress, a PVC and a Job goes up (every await must be satisfied by the cluster,
not skipped), is checked object by object, previews clean, and is destroyed.
"""

from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path

import pulumi.automation as auto
import pytest
from kubernetes import client

from tests.fixtures.cluster import KubeCluster

pytestmark = pytest.mark.engine
PROJECT = Path(__file__).parent / "smoke_project"


def _stack(tmp_path: Path, env: dict[str, str], namespace: str) -> auto.Stack:
    work = tmp_path / "smoke_project"
    shutil.copytree(PROJECT, work)
    (work / "Pulumi.yaml").write_text(
        (PROJECT / "Pulumi.yaml").read_text().replace("../../../.venv", str(Path(__file__).parents[2] / ".venv"))
    )
    ws = auto.LocalWorkspace(work_dir=str(work), env_vars=env,
                             pulumi_command=auto.PulumiCommand(root=str(Path(env["PATH"].split(":")[0]).parent),
                                                               skip_version_check=True))
    stack = auto.Stack.create_or_select("smoke", ws)
    stack.set_config("namespace", auto.ConfigValue(namespace))
    return stack


def test_smoke_stack_up_preview_destroy(tmp_path: Path, kube_cluster: KubeCluster,
                                        pulumi_workspace_env: dict[str, str]) -> None:
    namespace = "smoke-test"
    stack = _stack(tmp_path, pulumi_workspace_env, namespace)
    up = stack.up(show_secrets=False, color="never")
    assert up.summary.result == "succeeded"
    assert up.outputs["namespace"].value == namespace
    assert up.outputs["password"].secret is True

    api = kube_cluster.api_client()
    core, apps, batch, net = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api), \
        client.NetworkingV1Api(api)
    assert core.read_namespace(namespace).status.phase == "Active"
    secret = core.read_namespaced_secret("smoke", namespace)
    password = base64.b64decode(secret.data["password"]).decode()
    assert len(password) == 24 and password == up.outputs["password"].value
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.status.ready_replicas == 1
    endpoints = core.read_namespaced_endpoints("web", namespace)
    assert endpoints.subsets and endpoints.subsets[0].addresses
    ingress = net.read_namespaced_ingress("web", namespace)
    assert ingress.spec.rules[0].host == "smoke.sandboxes.localhost"
    assert ingress.status.load_balancer.ingress[0].ip
    assert core.read_namespaced_persistent_volume_claim("data", namespace).status.phase == "Bound"
    job = batch.read_namespaced_job("once", namespace)
    assert job.status.succeeded == 1
    assert any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)

    preview = stack.preview(color="never")
    assert set(preview.change_summary) == {"same"}, preview.change_summary

    destroyed = stack.destroy(color="never")
    assert destroyed.summary.result == "succeeded"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if namespace not in {n.metadata.name for n in core.list_namespace().items}:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"namespace {namespace} still present after destroy")
    stack.workspace.remove_stack("smoke")
