"""NetworkPolicies as objects: default deny, the explicit allows, the copy rule only for copy.

No CNI enforces them on the embedded cluster; these tests (and the engine test) check
what is declared, never claim enforcement.
"""

from __future__ import annotations

from typing import Any

from .harness import Rendered, base_spec, render

NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def policies(r: Rendered) -> dict[str, dict[str, Any]]:
    return {p.k8s_name.removeprefix("sandbox-abc123-"): p.inputs["spec"] for p in r.of_type(NP) if p.k8s_name}


def test_default_deny_both_ways() -> None:
    p = policies(render(base_spec()))
    assert p["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_dns_and_same_namespace_allows() -> None:
    p = policies(render(base_spec()))
    dns = p["allow-dns-egress"]["egress"][0]
    assert dns["to"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}]
    assert {(port["protocol"], port["port"]) for port in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    assert p["allow-same-namespace-egress"]["egress"] == [{"to": [{"podSelector": {}}]}]
    assert p["allow-same-namespace"]["ingress"] == [{"from": [{"podSelector": {}}]}]


def test_no_egress_to_the_internet() -> None:
    p = policies(render(base_spec(data="copy", parent="sandbox-parent")))
    for name, body in p.items():
        for rule in body.get("egress", []):
            for peer in rule.get("to", []):
                assert "ipBlock" not in peer, f"{name} allows egress to an IP block"
            assert rule.get("to"), f"{name} has an egress rule to anywhere"


def test_ingress_controller_reaches_only_the_web_port() -> None:
    from components import ProjectDefaults

    p = policies(render(base_spec(), ProjectDefaults(ingress_controller_namespace="traefik")))
    body = p["allow-ingress-controller"]
    assert body["podSelector"] == {"matchLabels": {"app.kubernetes.io/instance": "sandbox-abc123",
                                                   "app.kubernetes.io/component": "web"}}
    assert body["ingress"] == [{
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "traefik"}}}],
        "ports": [{"protocol": "TCP", "port": 8080}],
    }]


def test_every_sandbox_lets_its_childrens_seed_jobs_reach_its_database() -> None:
    body = policies(render(base_spec()))["allow-child-seed-to-db"]
    assert body["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "database"
    assert body["ingress"][0]["from"] == [{
        "namespaceSelector": {"matchLabels": {"sandboxes.io/parent": "sandbox-abc123"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/component": "seed"}},
    }]
    assert body["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_copy_egress_rule_only_for_copy() -> None:
    for data in ("blank", "preconfigured"):
        assert "allow-copy-egress" not in policies(render(base_spec(data=data, parent="sandbox-parent")))
    from components import ProjectDefaults

    masked = policies(render(base_spec(data="masked-copy", parent="sandbox-parent"),
                             ProjectDefaults(allow_masked_copy=True)))
    assert "allow-copy-egress" in masked
    body = policies(render(base_spec(data="copy", parent="sandbox-parent")))["allow-copy-egress"]
    assert body["podSelector"] == {"matchLabels": {"app.kubernetes.io/component": "seed"}}
    assert body["policyTypes"] == ["Egress"]
    assert body["egress"] == [{
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "sandbox-parent"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/instance": "sandbox-parent",
                                            "app.kubernetes.io/component": "database"}},
        }],
        "ports": [{"protocol": "TCP", "port": 5432}],
    }]


def test_devices_reachable_only_from_the_workload() -> None:
    p = policies(render(base_spec(data="preconfigured")))
    body = p["devices-from-web"]
    assert body["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "devices"
    assert body["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/instance": "sandbox-abc123", "app.kubernetes.io/component": "web"}}}]
    # The general same-namespace allow must not also cover the devices pods.
    same = p["allow-same-namespace"]["podSelector"]
    assert same == {"matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "NotIn",
                                          "values": ["devices"]}]}
    assert "devices-from-web" not in policies(render(base_spec(data="blank")))
