"""Operator export: the Stack resources' shape, and the real API server accepting them.

The second test installs the operator's own CRDs (v2.9.0, from the shared data folder)
into the embedded cluster and creates every exported Stack with a server-side dry run:
the API server validates each against the CRD's OpenAPI schema and CEL rules without
storing anything, so no operator needs to run.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from sandboxes.paths import shared_dir
from sandboxes.reconcile import HEADER, OperatorOptions, export_operator
from tests.reconcile.conftest import write_sandbox

CRDS = shared_dir() / "data" / "pulumi-kubernetes-operator-crds"
P, C, X = "sandbox-pppppp", "sandbox-cccccc", "sandbox-xxxxxx"
OPTIONS = OperatorOptions(repo="https://git.example.com/platform/sandboxes.git", branch="main", repo_dir=".",
                          namespace="sandboxes-operator", backend="s3://sandboxes-state/prod",
                          backend_env_secret="sandboxes-backend", workspace_image="localhost/sandboxes/workspace:1")


def _fleet(stacks: Path) -> None:
    write_sandbox(stacks, P)
    write_sandbox(stacks, C, parent=P, data="copy", platform={"expires_at": "2099-01-01T00:00:00Z"})
    write_sandbox(stacks, X, platform={"expires_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()})
    (stacks / "Pulumi.sandbox-broken.yaml").write_text("config: [")


def test_export_writes_one_stack_per_live_sandbox(stacks: Path, tmp_path: Path) -> None:
    _fleet(stacks)
    out = tmp_path / "operator"
    out.mkdir()
    (out / f"{X}.yaml").write_text(HEADER + "stale: true\n")  # ours from an earlier export
    (out / "namespace.yaml").write_text("kind: Namespace\n")  # someone else's: left alone
    result, resources = export_operator(stacks, out, OPTIONS)
    assert sorted(p.name for p in result.written) == [f"{C}.yaml", f"{P}.yaml"]
    assert [p.name for p in result.removed] == [f"{X}.yaml"]
    assert (out / "namespace.yaml").exists()
    assert result.skipped == {X: "expired"}
    assert [p.path.name for p in result.problems] == ["Pulumi.sandbox-broken.yaml"]
    child = yaml.safe_load((out / f"{C}.yaml").read_text())
    assert child["apiVersion"] == "pulumi.com/v1" and child["kind"] == "Stack"
    spec = child["spec"]
    assert spec["stack"] == f"organization/sandboxes/{C}"
    assert (spec["projectRepo"], spec["branch"], spec["repoDir"]) == (OPTIONS.repo, "main", ".")
    assert spec["backend"] == "s3://sandboxes-state/prod"
    assert spec["envRefs"]["PULUMI_CONFIG_PASSPHRASE"] == {
        "type": "Secret", "secret": {"name": "sandboxes-pulumi", "key": "passphrase"}}
    assert spec["destroyOnFinalize"] is True and spec["resyncFrequencySeconds"] == 600
    assert spec["prerequisites"] == [{"name": P}]
    assert spec["workspaceTemplate"]["spec"]["envFrom"] == [{"secretRef": {"name": "sandboxes-backend"}}]
    assert "prerequisites" not in yaml.safe_load((out / f"{P}.yaml").read_text())["spec"]
    kustomization = yaml.safe_load((out / "kustomization.yaml").read_text())
    assert kustomization["resources"] == [f"{C}.yaml", f"{P}.yaml"]
    assert len(resources) == 2
    assert "passphrase" not in (out / f"{C}.yaml").read_text().replace("key: passphrase", "")


@pytest.mark.engine
def test_api_server_accepts_every_exported_stack(stacks: Path, tmp_path: Path, kube_cluster) -> None:  # type: ignore[no-untyped-def]
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = kube_cluster.api_client()
    ext = client.ApiextensionsV1Api(api)
    crds = sorted(CRDS.glob("*.yaml"))
    assert crds, f"no operator CRDs in {CRDS}: the shared folder is not next to this checkout; set SANDBOXES_SHARED_DIR"
    for path in crds:
        try:
            ext.create_custom_resource_definition(yaml.safe_load(path.read_text()))
        except ApiException as err:
            if err.status != 409:
                raise
    deadline = time.monotonic() + 60
    conditions: list[tuple[str, str]] = []
    while time.monotonic() < deadline:
        crd = ext.read_custom_resource_definition("stacks.pulumi.com")
        conditions = [(c.type, c.status) for c in crd.status.conditions or []]
        if ("Established", "True") in conditions:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"stacks.pulumi.com never became Established: {conditions}")
    core = client.CoreV1Api(api)
    try:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=OPTIONS.namespace)))
    except ApiException as err:
        if err.status != 409:
            raise

    _fleet(stacks)
    _, resources = export_operator(stacks, tmp_path / "operator", OPTIONS)
    assert resources
    custom = client.CustomObjectsApi(api)

    def dry_run(body: dict) -> dict:  # type: ignore[type-arg]
        created: dict = custom.create_namespaced_custom_object(  # type: ignore[type-arg]
            "pulumi.com", "v1", OPTIONS.namespace, "stacks", body, dry_run="All")
        return created

    for resource in resources:
        accepted = dry_run(resource)
        assert accepted["spec"]["stack"] == resource["spec"]["stack"]
        assert accepted["spec"]["destroyOnFinalize"] is True
    # dry run stored nothing
    listed = custom.list_namespaced_custom_object("pulumi.com", "v1", OPTIONS.namespace, "stacks")
    assert listed["items"] == []
    # and the server really validates: a wrong type and an over-long name are refused
    bad = {**resources[0], "spec": {**resources[0]["spec"], "resyncFrequencySeconds": "often"}}
    with pytest.raises(ApiException) as refused:
        dry_run(bad)
    assert refused.value.status == 422 and "resyncFrequencySeconds" in refused.value.body
    long_name = {**resources[0], "metadata": {**resources[0]["metadata"], "name": "s" * 43}}
    with pytest.raises(ApiException) as refused:
        dry_run(long_name)
    assert "42 characters" in refused.value.body
