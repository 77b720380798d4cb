"""Namespace, Pod Security labels, quota per size and access (RBAC) of a sandbox, under mocks."""

from __future__ import annotations

import pytest
from components.sizes import SIZE_PRESETS

from sandboxes.spec import Size

from .harness import base_spec, render

NS = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMITS = "kubernetes:core/v1:LimitRange"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"


def test_namespace_is_named_the_slug_with_labels_and_pod_security() -> None:
    r = render(base_spec())
    ns = r.one(NS)
    assert ns.k8s_name == "sandbox-abc123"
    labels = ns.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/audit"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert labels["sandboxes.io/slug"] == "sandbox-abc123"
    assert labels["sandboxes.io/provider"] == "acme"
    assert labels["sandboxes.io/modules"] == "cpo.msp"
    assert labels["sandboxes.io/reporting"] == "excluded"
    assert labels["app.kubernetes.io/instance"] == "sandbox-abc123"
    assert labels["app.kubernetes.io/part-of"] == "sandboxes"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert "sandboxes.io/parent" not in labels


def test_prospect_and_child_labels() -> None:
    r = render(base_spec(provider_id=None, parent="sandbox-parent", modules=["msp"]))
    labels = r.one(NS).labels
    assert labels["sandboxes.io/provider"] == "prospect"
    assert labels["sandboxes.io/parent"] == "sandbox-parent"
    assert labels["sandboxes.io/modules"] == "msp"


@pytest.mark.parametrize("size", list(Size))
def test_quota_and_limits_follow_the_size_preset(size: Size) -> None:
    r = render(base_spec(platform={"size": size.value}))
    preset = SIZE_PRESETS[size]
    hard = r.one(QUOTA).inputs["spec"]["hard"]
    assert hard == preset.quota_hard()
    assert hard["requests.storage"] == preset.quota_storage
    item = r.one(LIMITS).inputs["spec"]["limits"][0]
    assert item["type"] == "Container"
    assert item["default"] == {"cpu": preset.container.cpu_limit, "memory": preset.container.memory_limit}
    assert item["defaultRequest"] == {"cpu": preset.container.cpu_request, "memory": preset.container.memory_request}


def test_size_presets_grow_and_fit_the_pods_a_sandbox_runs() -> None:
    from components.sizes import preset as get

    small, medium, large = (get(s) for s in (Size.SMALL, Size.MEDIUM, Size.LARGE))
    assert small.quota_pods < medium.quota_pods < large.quota_pods
    # web (+1 during a roll), database, seed job, devices: 5 pods of container size must fit.
    for p in (small, medium, large):
        assert p.quota_pods >= 5


def test_role_binding_subjects_are_provider_group_then_access() -> None:
    r = render(base_spec(access={"groups": ["acme-ops"], "users": ["jane@acme.example"]}))
    binding = r.one(BINDING)
    assert binding.inputs["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                         "name": "sandbox-abc123-access"}
    assert binding.inputs["subjects"] == [
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "sandboxes.io:provider:acme"},
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "acme-ops"},
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "jane@acme.example"},
    ]
    names = {s["name"] for s in binding.inputs["subjects"]}
    assert "sandboxes.io:provider:other" not in names


def test_prospect_sandbox_grants_no_provider_group() -> None:
    r = render(base_spec(provider_id=None))
    subjects = r.one(BINDING).inputs.get("subjects") or []
    assert not [s for s in subjects if s["name"].startswith("sandboxes.io:provider:")]


def test_role_reads_only_the_api_credentials_secret_and_nothing_cluster_wide() -> None:
    r = render(base_spec())
    rules = r.one(ROLE).inputs["rules"]
    secret_rules = [rule for rule in rules if "secrets" in rule["resources"]]
    assert secret_rules == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["sandbox-abc123-api-credentials"],
         "verbs": ["get"]}
    ]
    covered = {res for rule in rules for res in rule["resources"]}
    assert {"pods", "pods/log", "services", "configmaps", "deployments", "jobs", "events"} <= covered
    assert not r.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    assert not r.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
