"""The composed ``Sandbox``: every object labelled and deterministically named, devices iff enabled,
secrets kept secret (asserted inside the Pulumi run)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from components.fieldmanager import FIELD_MANAGER_ANNOTATION

from components import ProjectDefaults, Sandbox

from .harness import base_spec, render

CLUSTER_SCOPED = {"kubernetes:core/v1:Namespace"}
DEVICES = ("kubernetes:apps/v1:Deployment", "sandbox-abc123-devices")


@pytest.mark.parametrize("data", ["blank", "preconfigured"])
def test_every_namespaced_object_is_labelled_named_and_in_the_namespace(data: str) -> None:
    r = render(base_spec(data=data))
    objects = r.kubernetes_objects()
    assert len(objects) >= 15
    for obj in objects:
        assert obj.labels.get("sandboxes.io/slug") == "sandbox-abc123", obj.name
        assert obj.labels.get("sandboxes.io/reporting") == "excluded", obj.name
        assert obj.k8s_name and obj.k8s_name.startswith("sandbox-abc123"), obj.name
        if obj.type not in CLUSTER_SCOPED:
            assert obj.metadata.get("namespace") == "sandbox-abc123", obj.name
    for typ in ("kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"):
        for obj in r.of_type(typ):
            assert obj.inputs["spec"]["template"]["metadata"]["labels"]["sandboxes.io/slug"] == "sandbox-abc123"


def test_every_object_is_applied_by_the_sandboxes_own_field_manager() -> None:
    """A re-create after a killed engine must be an apply by the same owner, not a field conflict."""
    defaults = ProjectDefaults(local_volume_dir="/var/lib/sandboxes/volumes", node_selector={"k": "v"})
    r = render(base_spec(data="preconfigured"), defaults)
    objects = r.kubernetes_objects()
    assert {o.type for o in objects} >= {"kubernetes:core/v1:PersistentVolume", "kubernetes:core/v1:Namespace",
                                         "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"}
    for obj in objects:
        annotations = obj.metadata.get("annotations") or {}
        assert annotations.get(FIELD_MANAGER_ANNOTATION) == "sandboxes-sandbox-abc123", (obj.type, obj.name)
    chart = r.one("kubernetes:helm.sh/v4:Chart")
    assert chart.inputs["values"]["annotations"] == {FIELD_MANAGER_ANNOTATION: "sandboxes-sandbox-abc123"}


def test_every_resource_is_parented_under_the_sandbox() -> None:
    r = render(base_spec())
    names = [res.name for res in r.resources]
    assert all(n.startswith("sandbox-abc123") for n in names), names
    assert len(names) == len(set(names))


def test_devices_deployed_iff_enabled() -> None:
    def has_devices(**kw: Any) -> bool:
        r = render(base_spec(**kw))
        return any(o.k8s_name == DEVICES[1] for o in r.of_type(DEVICES[0]))

    assert has_devices(data="preconfigured")
    assert not has_devices(data="blank")
    assert has_devices(data="blank", devices={"enabled": True})
    assert not has_devices(data="preconfigured", devices={"enabled": False})


def test_devices_deployment_command_and_wiring() -> None:
    r = render(base_spec(data="preconfigured"))
    pod = r.named(*DEVICES).inputs["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["command"] == ["python3", "-m", "device_simulator", "serve", "--host", "0.0.0.0", "--port", "8080"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert r.named("kubernetes:core/v1:Service", "sandbox-abc123-devices")
    web_env = {e["name"]: e.get("value") for e in
               r.named("kubernetes:apps/v1:Deployment", "sandbox-abc123-web").inputs["spec"]["template"]["spec"]
               ["containers"][0]["env"]}
    assert web_env["DEVICE_SIMULATOR_URL"] == "http://sandbox-abc123-devices:8080"


def test_api_credentials_secret_and_outputs() -> None:
    async def check(sb: Sandbox) -> None:
        assert await sb.api_secret.is_secret()
        assert await sb.database_url.is_secret()
        assert not await sb.api_key_id.is_secret()
        key_id = await sb.api_key_id.future()
        assert key_id is not None and key_id.startswith("sbx_") and len(key_id) == 24
        assert await sb.namespace.future() == "sandbox-abc123"
        assert await sb.database_secret_name.future() == "sandbox-abc123-db"
        assert await sb.seed_job_name.future() == "sandbox-abc123-seed"

    r = render(base_spec(), check=lambda sb: asyncio.ensure_future(check(sb)))
    secret = r.named("kubernetes:core/v1:Secret", "sandbox-abc123-api-credentials")
    assert "stringData" in secret.secret_inputs
    assert set(secret.inputs["stringData"]) == {"key_id", "secret"}
    key = r.one("random:index/randomString:RandomString").inputs
    assert key["length"] == 20 and key["upper"] is False and key["special"] is False
    pw = [p.inputs for p in r.of_type("random:index/randomPassword:RandomPassword") if "credentials" in p.name]
    assert pw and pw[0]["length"] == 48


def test_children_use_a_provider_with_mutable_configmaps() -> None:
    r = render(base_spec())
    provider = r.one("pulumi:providers:kubernetes")
    assert provider.inputs.get("enableConfigMapMutable") in (True, "true")
