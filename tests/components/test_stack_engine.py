"""Issue 3 on the real engine: sandbox stacks up, checked object by object, previewed, changed, destroyed.

Three stacks of the one program keep the run short while covering every data mode
that needs no production source and both module choices:

- ``sandbox-eng001``: preconfigured, cpo+msp, provider ``acme`` (+ an access group and
  user), devices on (the default for preconfigured): the parent;
- ``sandbox-eng002``: blank, msp, provider ``acme``, size medium: the settings change;
- ``sandbox-eng003``: copy of eng001, cpo, provider ``beta``, TLS on (self-signed certificate).

Everything is read back through the Kubernetes API. What this proves and what it
does not: kwok runs no containers, so a Complete Job proves ordering and the awaits,
not the seed program (the contract test holds ``seed_container`` against it).
NetworkPolicies are stored, not enforced (no CNI): they are asserted as objects.
RBAC and Pod Security *are* enforced by the real API server: both sides are tested.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from components.fieldmanager import field_manager_name
from components.labels import SLUG_LABEL
from components.seed_job import SeedContainerArgs, seed_container
from components.sizes import SIZE_PRESETS
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sandboxes import stackfiles
from sandboxes.engine import Engine, EngineFailed
from sandboxes.environment import resolve
from sandboxes.spec import SandboxSpec, Size, parse_spec
from tests.fixtures.cluster import KubeCluster

from .harness import base_spec

pytestmark = pytest.mark.engine

PARENT = "sandbox-eng001"
BLANK = "sandbox-eng002"
CHILD = "sandbox-eng003"

SPECS: dict[str, dict[str, Any]] = {
    PARENT: base_spec(slug=PARENT, data="preconfigured", modules=["cpo", "msp"], provider_id="acme",
                      access={"groups": ["acme-ops"], "users": ["jane@acme.example"]}),
    BLANK: base_spec(slug=BLANK, data="blank", modules=["msp"], provider_id="acme", platform={"size": "medium"}),
    CHILD: base_spec(slug=CHILD, data="copy", parent=PARENT, modules=["cpo"], provider_id="beta",
                     platform={"tls": True}),
}
ORDER = [PARENT, BLANK, CHILD]

# Every namespaced kind a sandbox may own, as (list function of an API class, attribute) pairs.
NAMESPACED_KINDS = [
    ("CoreV1Api", "list_namespaced_pod"),
    ("CoreV1Api", "list_namespaced_service"),
    ("CoreV1Api", "list_namespaced_config_map"),
    ("CoreV1Api", "list_namespaced_secret"),
    ("CoreV1Api", "list_namespaced_persistent_volume_claim"),
    ("CoreV1Api", "list_namespaced_resource_quota"),
    ("CoreV1Api", "list_namespaced_limit_range"),
    ("AppsV1Api", "list_namespaced_deployment"),
    ("AppsV1Api", "list_namespaced_stateful_set"),
    ("BatchV1Api", "list_namespaced_job"),
    ("NetworkingV1Api", "list_namespaced_network_policy"),
    ("NetworkingV1Api", "list_namespaced_ingress"),
    ("RbacAuthorizationV1Api", "list_namespaced_role"),
    ("RbacAuthorizationV1Api", "list_namespaced_role_binding"),
]


class Sandboxes:
    """The engine and the specs of the stacks this module brought up."""

    def __init__(self, engine: Engine, stacks_dir: Path, api: Any) -> None:
        self.engine = engine
        self.stacks_dir = stacks_dir
        self.api = api
        self.up_results: dict[str, Any] = {}
        self.specs: dict[str, SandboxSpec] = {}
        self.destroyed: set[str] = set()

    def write(self, spec: dict[str, Any]) -> SandboxSpec:
        model = parse_spec(spec)
        stackfiles.write(self.stacks_dir, model, owner="tests@sandboxes.io")
        self.specs[model.slug] = model
        return model

    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory, kube_cluster: KubeCluster,
              pulumi_workspace_env: dict[str, str]) -> Iterator[Sandboxes]:
    stacks_dir = tmp_path_factory.mktemp("stacks")
    engine = Engine(stacks_dir=stacks_dir, environment=resolve(pulumi_workspace_env))
    state = Sandboxes(engine, stacks_dir, kube_cluster.api_client())
    try:
        for slug in ORDER:
            state.write(SPECS[slug])
            state.up_results[slug] = engine.up(slug)
        yield state
    finally:
        for slug in reversed(ORDER):
            if slug in state.destroyed:
                continue
            try:
                engine.destroy(slug)
            except Exception as err:  # leave the cluster clean for the next module; report, don't mask
                print(f"cleanup: destroy {slug} failed: {err}")


def labelled(api: Any, slug: str, namespace: str | None = None) -> dict[str, list[str]]:
    """Every object carrying ``sandboxes.io/slug=<slug>``, by list function (all namespaces if none given)."""
    found: dict[str, list[str]] = {}
    selector = f"{SLUG_LABEL}={slug}"
    for cls, fn in NAMESPACED_KINDS:
        api_obj = getattr(client, cls)(api)
        if namespace is None:
            fn_all = fn.replace("_namespaced_", "_") + "_for_all_namespaces"
            items = getattr(api_obj, fn_all)(label_selector=selector).items
        else:
            items = getattr(api_obj, fn)(namespace, label_selector=selector).items
        if items:
            found[fn] = sorted(i.metadata.name for i in items)
    return found


def test_up_succeeded_with_outputs(sandboxes: Sandboxes) -> None:
    for slug in ORDER:
        res = sandboxes.up_results[slug]
        assert res.result == "succeeded", slug
        out = res.outputs
        assert out["namespace"] == slug
        scheme = "https" if SPECS[slug].get("platform", {}).get("tls") else "http"
        assert out["url"] == f"{scheme}://{slug}.sandboxes.localhost"
        assert out["seed_job_name"] == f"{slug}-seed"
        assert out["database_secret_name"] == f"{slug}-db"
        assert out["api_key_id"].startswith("sbx_")
        assert out["api_secret"] == "[secret]" and out["database_url"] == "[secret]"
        assert out["owner"] == "tests@sandboxes.io"
    assert sandboxes.up_results[CHILD].outputs["parent"] == PARENT


def test_every_object_exists_with_labels(sandboxes: Sandboxes) -> None:
    for slug in ORDER:
        spec = sandboxes.specs[slug]
        ns = sandboxes.core().read_namespace(slug)
        assert ns.status.phase == "Active"
        labels = ns.metadata.labels
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert labels[SLUG_LABEL] == slug
        assert labels["sandboxes.io/modules"] == ".".join(sorted(str(m) for m in spec.modules))
        assert labels["sandboxes.io/provider"] == spec.provider_id
        assert labels.get("sandboxes.io/parent") == spec.parent
        found = labelled(sandboxes.api, slug, slug)
        assert f"{slug}-web" in found["list_namespaced_deployment"]
        assert found["list_namespaced_stateful_set"] == [f"{slug}-db"]
        assert {f"{slug}-web", f"{slug}-db", f"{slug}-db-headless"} <= set(found["list_namespaced_service"])
        assert f"{slug}-settings" in found["list_namespaced_config_map"]
        assert {f"{slug}-db", f"{slug}-api-credentials"} <= set(found["list_namespaced_secret"])
        assert found["list_namespaced_job"] == [f"{slug}-seed"]
        assert found["list_namespaced_ingress"] == [slug]
        assert found["list_namespaced_resource_quota"] == [f"{slug}-quota"]
        assert found["list_namespaced_role"] == [f"{slug}-access"]
        assert found["list_namespaced_role_binding"] == [f"{slug}-access"]
        # The database's volume claim came from the StatefulSet's template and still carries the label.
        assert found.get("list_namespaced_persistent_volume_claim") == [f"data-{slug}-db-0"]
        devices = f"{slug}-devices" in found["list_namespaced_deployment"]
        assert devices == spec.devices_enabled, slug


def test_workload_database_and_seed_job_are_ready(sandboxes: Sandboxes) -> None:
    apps, batch = client.AppsV1Api(sandboxes.api), client.BatchV1Api(sandboxes.api)
    core = sandboxes.core()
    for slug in ORDER:
        assert apps.read_namespaced_deployment(f"{slug}-web", slug).status.ready_replicas == 1
        assert apps.read_namespaced_stateful_set(f"{slug}-db", slug).status.ready_replicas == 1
        assert core.read_namespaced_persistent_volume_claim(f"data-{slug}-db-0", slug).status.phase == "Bound"
        job = batch.read_namespaced_job(f"{slug}-seed", slug)
        assert job.status.succeeded == 1
        assert any(c.type == "Complete" and c.status == "True" for c in job.status.conditions)
        container = job.spec.template.spec.containers[0]
        expected = seed_container(SeedContainerArgs.from_spec(sandboxes.specs[slug], _defaults()))
        assert container.command == expected["command"]
        assert container.args == expected["args"]
        assert [e.name for e in container.env] == [e["name"] for e in expected["env"]]


def test_copy_child_gets_the_parents_database_url(sandboxes: Sandboxes) -> None:
    parent_url = sandboxes.engine.outputs(PARENT, include_secrets=True)["database_url"]
    secret = sandboxes.core().read_namespaced_secret(f"{CHILD}-parent-db", CHILD)
    assert base64.b64decode(secret.data["url"]).decode() == parent_url
    own = sandboxes.core().read_namespaced_secret(f"{CHILD}-db", CHILD)
    assert base64.b64decode(own.data["url"]).decode().startswith("postgresql://sandbox:")
    assert f"@{CHILD}-db.{CHILD}.svc.cluster.local:5432/sandbox" in base64.b64decode(own.data["url"]).decode()
    for slug in (PARENT, BLANK):
        with pytest.raises(ApiException) as info:
            sandboxes.core().read_namespaced_secret(f"{slug}-parent-db", slug)
        assert info.value.status == 404


def test_quota_network_policies_ingress(sandboxes: Sandboxes) -> None:
    net = client.NetworkingV1Api(sandboxes.api)
    for slug in ORDER:
        spec = sandboxes.specs[slug]
        hard = sandboxes.core().read_namespaced_resource_quota(f"{slug}-quota", slug).spec.hard
        assert hard == SIZE_PRESETS[Size(spec.platform.size)].quota_hard()
        policies = {p.metadata.name.removeprefix(f"{slug}-"): p for p in net.list_namespaced_network_policy(slug).items}
        expected = {"default-deny", "allow-same-namespace", "allow-ingress-controller", "allow-child-seed-to-db",
                    "allow-dns-egress", "allow-same-namespace-egress"}
        if spec.data == "copy":
            expected.add("allow-copy-egress")
        if spec.devices_enabled:
            expected.add("devices-from-web")
        assert set(policies) == expected, slug
        deny = policies["default-deny"].spec
        assert deny.pod_selector.match_labels is None and sorted(deny.policy_types) == ["Egress", "Ingress"]
        child_rule = policies["allow-child-seed-to-db"].spec.ingress[0]._from[0]
        assert child_rule.namespace_selector.match_labels == {"sandboxes.io/parent": slug}
        ing = net.read_namespaced_ingress(slug, slug)
        assert ing.spec.rules[0].host == f"{slug}.sandboxes.localhost"
        assert ing.spec.ingress_class_name == "sandboxes"
        assert ing.spec.rules[0].http.paths[0].backend.service.name == f"{slug}-web"
        assert ing.status.load_balancer.ingress[0].ip
    copy_rule = {p.metadata.name: p for p in net.list_namespaced_network_policy(CHILD).items}[
        f"{CHILD}-allow-copy-egress"].spec.egress[0].to[0]
    assert copy_rule.namespace_selector.match_labels == {"kubernetes.io/metadata.name": PARENT}


def test_rbac_subjects_and_real_authorization(sandboxes: Sandboxes, kube_cluster: KubeCluster) -> None:
    rbac = client.RbacAuthorizationV1Api(sandboxes.api)
    subjects = rbac.read_namespaced_role_binding(f"{PARENT}-access", PARENT).subjects
    assert [(s.kind, s.name) for s in subjects] == [
        ("Group", "sandboxes.io:provider:acme"), ("Group", "acme-ops"), ("User", "jane@acme.example")]

    def core_as(user: str, group: str | None = None) -> client.CoreV1Api:
        return client.CoreV1Api(kube_cluster.api_client(user=user, group=group))

    def status(call: Any) -> int:
        try:
            call()
        except ApiException as err:
            return int(err.status)
        return 200

    acme = core_as("alice", "sandboxes.io:provider:acme")
    other = core_as("mallory", "sandboxes.io:provider:other")
    jane = core_as("jane@acme.example")
    # The provider's group: allowed in its own sandboxes, credentials by name only.
    assert status(lambda: acme.list_namespaced_pod(PARENT)) == 200
    assert status(lambda: acme.read_namespaced_secret(f"{PARENT}-api-credentials", PARENT)) == 200
    assert status(lambda: acme.read_namespaced_secret(f"{PARENT}-db", PARENT)) == 403
    assert status(lambda: acme.list_namespaced_secret(PARENT)) == 403
    # A user named in access.users, without the group.
    assert status(lambda: jane.list_namespaced_pod(PARENT)) == 200
    assert status(lambda: jane.list_namespaced_pod(BLANK)) == 403
    # Another provider: denied everywhere it is not named.
    assert status(lambda: other.list_namespaced_pod(PARENT)) == 403
    assert status(lambda: other.read_namespaced_secret(f"{PARENT}-api-credentials", PARENT)) == 403
    # The child belongs to provider beta: acme may not read it even though it copies acme's sandbox.
    assert status(lambda: acme.list_namespaced_pod(CHILD)) == 403
    assert status(lambda: core_as("bob", "sandboxes.io:provider:beta").list_namespaced_pod(CHILD)) == 200
    # Nothing cluster-wide was granted.
    assert status(lambda: acme.list_namespace()) == 403


def test_pod_security_restricted_is_enforced(sandboxes: Sandboxes) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="privileged-probe"),
        spec=client.V1PodSpec(containers=[client.V1Container(
            name="x", image="localhost/none", security_context=client.V1SecurityContext(privileged=True))]),
    )
    with pytest.raises(ApiException) as info:
        sandboxes.core().create_namespaced_pod(BLANK, pod)
    assert info.value.status == 403 and "PodSecurity" in str(info.value.body)


def test_tls_secret_holds_a_certificate_for_the_host_and_its_key(sandboxes: Sandboxes) -> None:
    host = f"{CHILD}.sandboxes.localhost"
    assert sandboxes.engine.outputs(CHILD)["url"] == f"https://{host}"
    secret = sandboxes.core().read_namespaced_secret(f"{CHILD}-tls", CHILD)
    assert secret.type == "kubernetes.io/tls"
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret.data["tls.crt"]))
    key = serialization.load_pem_private_key(base64.b64decode(secret.data["tls.key"]), password=None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [host]
    ingress = client.NetworkingV1Api(sandboxes.api).read_namespaced_ingress(CHILD, CHILD)
    assert ingress.spec.tls[0].secret_name == f"{CHILD}-tls" and ingress.spec.tls[0].hosts == [host]
    assert not [s for s in sandboxes.core().list_namespaced_secret(PARENT).items if s.type == "kubernetes.io/tls"]


def test_second_preview_shows_no_changes(sandboxes: Sandboxes) -> None:
    for slug in ORDER:
        preview = sandboxes.engine.preview(slug)
        changed = {op: n for op, n in preview.changes.items() if op not in ("same", "read")}
        assert not changed, f"{slug}: {preview.changes}"


def test_settings_change_updates_only_the_configmap_and_rolls_the_deployment(sandboxes: Sandboxes) -> None:
    apps = client.AppsV1Api(sandboxes.api)
    before = apps.read_namespaced_deployment(f"{BLANK}-web", BLANK)
    old_hash = before.spec.template.metadata.annotations["sandboxes.io/settings-hash"]
    spec = dict(SPECS[BLANK])
    spec["settings"] = {"billing": {"invoicing": True}, "feature_toggles": {"engine_test": True}}
    sandboxes.write(spec)

    events: list[dict[str, Any]] = []
    result = sandboxes.engine.up(BLANK, on_event=events.append)
    assert result.result == "succeeded"
    changed = {(e["resource_type"], e["op"]) for e in events
               if e.get("type") == "resource-pre" and e["op"] not in ("same", "read")}
    assert changed == {("kubernetes:core/v1:ConfigMap", "update"), ("kubernetes:apps/v1:Deployment", "update")}, \
        changed
    cm = sandboxes.core().read_namespaced_config_map(f"{BLANK}-settings", BLANK)
    assert '"invoicing": true' in cm.data["settings.json"]
    after = apps.read_namespaced_deployment(f"{BLANK}-web", BLANK)
    assert after.spec.template.metadata.annotations["sandboxes.io/settings-hash"] != old_hash
    assert after.metadata.generation > before.metadata.generation
    assert after.status.ready_replicas == 1 and after.status.updated_replicas == 1
    assert sandboxes.engine.up(BLANK).changes.keys() <= {"same"}


# Kinds the stack applies itself (Pods and volume claims are made by controllers, not by the stack).
APPLIED_KINDS = [k for k in NAMESPACED_KINDS
                 if k[1] not in ("list_namespaced_pod", "list_namespaced_persistent_volume_claim")]


def appliers(obj: Any) -> set[str]:
    return {f.manager for f in obj.metadata.managed_fields or [] if f.operation == "Apply"}


def test_every_object_is_applied_by_the_sandboxes_own_field_manager(sandboxes: Sandboxes) -> None:
    for slug in ORDER:
        manager = field_manager_name(slug)
        namespace = client.CoreV1Api(sandboxes.api).read_namespace(slug)
        assert appliers(namespace) == {manager}, slug
        checked = 0
        for cls, fn in APPLIED_KINDS:
            listing = getattr(getattr(client, cls)(sandboxes.api), fn)
            for obj in listing(slug, label_selector=f"{SLUG_LABEL}={slug}").items:
                assert appliers(obj) == {manager}, (slug, fn, obj.metadata.name, appliers(obj))
                checked += 1
        assert checked >= 15, slug  # the chart's StatefulSet and Services among them


def _with_dependents(resources: list[dict[str, Any]], urn: str) -> set[str]:
    lost, grew = {urn}, True
    while grew:
        grew = False
        for r in resources:
            deps = set(r.get("dependencies") or []) | {u for us in (r.get("propertyDependencies") or {}).values()
                                                        for u in us}
            if r.get("parent"):
                deps.add(r["parent"])
            if r["urn"] not in lost and deps & lost:
                lost.add(r["urn"])
                grew = True
    return lost


def _forget_as_pending_creates(sandboxes: Sandboxes, slug: str, typ: str, urn_suffix: str) -> set[str]:
    """Turn a resource and its dependents into pending creates, as an engine killed while creating them leaves.

    Written into the file backend's checkpoint as the engine would: ``stack import`` drops pending operations.
    """
    checkpoint_file = Path(sandboxes.engine.environment.backend_url.removeprefix("file://")) / ".pulumi" / "stacks" \
        / "sandboxes" / f"{slug}.json"
    checkpoint = json.loads(checkpoint_file.read_text())
    deployment = checkpoint["checkpoint"]["latest"]
    resources: list[dict[str, Any]] = deployment["resources"]
    urn = next(r["urn"] for r in resources if r["type"] == typ and r["urn"].endswith(urn_suffix))
    lost = _with_dependents(resources, urn)
    deployment["resources"] = [r for r in resources if r["urn"] not in lost]
    deployment["pending_operations"] = [{"resource": r, "type": "creating"} for r in resources if r["urn"] in lost]
    checkpoint_file.write_text(json.dumps(checkpoint))
    return lost


def test_objects_made_but_never_recorded_are_taken_over_by_the_next_up(sandboxes: Sandboxes) -> None:
    """What an engine killed mid-create leaves: live objects that its checkpoint lists only as pending creates.

    The repair clears those creates; the next ``up`` applies the objects again, with other
    values, and must own them rather than hit a field conflict with its dead predecessor.
    """
    lost = _forget_as_pending_creates(sandboxes, BLANK, "kubernetes:core/v1:ConfigMap", "-workload-settings")
    assert any(u.endswith("-workload-deployment") for u in lost), lost

    done = sandboxes.engine.repair(BLANK)
    assert any("pending operation" in d for d in done), done
    spec = dict(SPECS[BLANK])
    spec["settings"] = {"feature_toggles": {"after_a_crash": True}}
    sandboxes.write(spec)
    result = sandboxes.engine.up(BLANK)
    assert result.result == "succeeded"
    cm = sandboxes.core().read_namespaced_config_map(f"{BLANK}-settings", BLANK)
    assert '"after_a_crash": true' in cm.data["settings.json"]
    assert appliers(cm) == {field_manager_name(BLANK)}
    web = client.AppsV1Api(sandboxes.api).read_namespaced_deployment(f"{BLANK}-web", BLANK)
    assert web.status.ready_replicas == 1
    assert sandboxes.engine.up(BLANK).changes.keys() <= {"same"}


def test_a_new_data_generation_replaces_the_seed_job(sandboxes: Sandboxes) -> None:
    batch = client.BatchV1Api(sandboxes.api)
    before = batch.read_namespaced_job(f"{BLANK}-seed", BLANK)
    assert "--reset-generation" not in before.spec.template.spec.containers[0].args
    spec = dict(SPECS[BLANK])
    spec["data_generation"] = 1
    sandboxes.write(spec)
    events: list[dict[str, Any]] = []
    assert sandboxes.engine.up(BLANK, on_event=events.append).result == "succeeded"
    replaced = {e["resource_type"] for e in events if e.get("type") == "resource-pre"
                and e["op"] in ("replace", "create-replacement", "delete-replaced")}
    assert replaced == {"kubernetes:batch/v1:Job"}, replaced
    after = batch.read_namespaced_job(f"{BLANK}-seed", BLANK)
    assert after.metadata.uid != before.metadata.uid and after.status.succeeded == 1
    args = after.spec.template.spec.containers[0].args
    assert args[args.index("--reset-generation") + 1] == "1"


def test_a_seed_job_made_but_never_recorded_is_made_again_with_a_new_template(sandboxes: Sandboxes) -> None:
    """A Job's template is immutable: the repair deletes the dead engine's Job, the next up makes its own."""
    batch = client.BatchV1Api(sandboxes.api)
    before = batch.read_namespaced_job(f"{BLANK}-seed", BLANK)
    lost = _forget_as_pending_creates(sandboxes, BLANK, "kubernetes:batch/v1:Job", "-seed-job")
    assert any(u.endswith("-seed-job") for u in lost), lost
    done = sandboxes.engine.repair(BLANK)
    assert f"deleted Job {BLANK}/{BLANK}-seed, which the dead engine may have made" in " ".join(done), done
    spec = dict(SPECS[BLANK])
    spec["data_generation"] = 2  # a new template: applied over the old Job, it would be refused as immutable
    sandboxes.write(spec)
    assert sandboxes.engine.up(BLANK).result == "succeeded"
    after = batch.read_namespaced_job(f"{BLANK}-seed", BLANK)
    assert after.metadata.uid != before.metadata.uid and after.status.succeeded == 1
    args = after.spec.template.spec.containers[0].args
    assert args[args.index("--reset-generation") + 1] == "2"
    assert sandboxes.engine.up(BLANK).changes.keys() <= {"same"}


def test_secrets_never_reach_the_state_in_plain_text(sandboxes: Sandboxes) -> None:
    url = sandboxes.engine.environment.backend_url
    assert url.startswith("file://")
    state_files = [p for p in Path(url.removeprefix("file://")).rglob("*") if p.is_file()]
    assert state_files
    secrets = []
    for slug in ORDER:
        db = sandboxes.core().read_namespaced_secret(f"{slug}-db", slug)
        secrets.append(base64.b64decode(db.data["password"]).decode())
        secrets.append(sandboxes.engine.outputs(slug, include_secrets=True)["api_secret"])
    tls_key = base64.b64decode(sandboxes.core().read_namespaced_secret(f"{CHILD}-tls", CHILD).data["tls.key"]).decode()
    secrets.append(tls_key.splitlines()[1])  # a line of the key's body: the state escapes the PEM's newlines
    assert all(len(s) >= 32 for s in secrets)
    for path in state_files:
        text = path.read_bytes().decode(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a secret is in plain text in {path}"


def test_policy_refusal_on_the_real_engine_creates_nothing(sandboxes: Sandboxes) -> None:
    slug = "sandbox-eng004"
    sandboxes.write(base_spec(slug=slug, data="masked-copy", parent=PARENT, modules=["msp"]))
    with pytest.raises(EngineFailed, match="allowMaskedCopy"):
        sandboxes.engine.up(slug)
    assert not sandboxes.core().list_namespace(label_selector=f"{SLUG_LABEL}={slug}").items
    assert labelled(sandboxes.api, slug) == {}
    sandboxes.engine.remove_stack(slug)


def test_masked_copy_runs_once_the_policy_switch_is_on(sandboxes: Sandboxes) -> None:
    """Seed 002's masked production copy: refused by default (above), allowed by the project switch."""
    slug = "sandbox-eng005"
    model = sandboxes.write(base_spec(slug=slug, data="masked-copy", parent=PARENT, modules=["msp"]))
    path = stackfiles.path_for(sandboxes.stacks_dir, slug)
    raw = yaml.safe_load(path.read_text())
    raw["config"]["sandboxes:allowMaskedCopy"] = True
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    try:
        assert sandboxes.engine.up(slug).result == "succeeded"
        job = client.BatchV1Api(sandboxes.api).read_namespaced_job(f"{slug}-seed", slug)
        container = job.spec.template.spec.containers[0]
        assert container.args[container.args.index("--mode") + 1] == "masked-copy", container.args
        env = {e.name: e for e in container.env}
        assert env["SEED_MASKED_COPY_ALLOWED"].value == "true"
        assert env["PARENT_DATABASE_URL"].value_from.secret_key_ref.name == f"{slug}-parent-db"
        parent_secret = sandboxes.core().read_namespaced_secret(f"{slug}-parent-db", slug)
        parent_db = sandboxes.core().read_namespaced_secret(f"{PARENT}-db", PARENT)
        assert parent_secret.data["url"] == parent_db.data["url"]  # the parent's own database, through its stack
        assert job.status.succeeded == 1
        assert model.data == "masked-copy"
    finally:
        sandboxes.engine.destroy(slug)


def test_destroy_leaves_nothing_labelled(sandboxes: Sandboxes) -> None:
    for slug in reversed(ORDER):
        result = sandboxes.engine.destroy(slug)
        assert result.result == "succeeded", slug
        sandboxes.destroyed.add(slug)
    namespaces = {n.metadata.name for n in sandboxes.core().list_namespace().items}
    deadline = time.monotonic() + 60
    while set(ORDER) & namespaces and time.monotonic() < deadline:
        time.sleep(0.5)
        namespaces = {n.metadata.name for n in sandboxes.core().list_namespace().items}
    assert not set(ORDER) & namespaces
    for slug in ORDER:
        assert labelled(sandboxes.api, slug) == {}, slug
        assert not sandboxes.core().list_namespace(label_selector=f"{SLUG_LABEL}={slug}").items


def _defaults() -> Any:
    from components import ProjectDefaults

    return ProjectDefaults()
