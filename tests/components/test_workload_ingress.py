"""Workload (Deployment, Service, settings ConfigMap) and Ingress, under mocks."""

from __future__ import annotations

import json

from components.podsecurity import container_security_context
from components.sizes import SIZE_PRESETS
from components.workload import SETTINGS_HASH_ANNOTATION, settings_data, settings_hash, workload_image

from components import ProjectDefaults
from sandboxes.spec import INTEGRATIONS, Size, parse_spec

from .harness import Rendered, base_spec, render

DEPLOY = "kubernetes:apps/v1:Deployment"
CM = "kubernetes:core/v1:ConfigMap"
SVC = "kubernetes:core/v1:Service"
ING = "kubernetes:networking.k8s.io/v1:Ingress"


def web(r: Rendered) -> dict:
    return r.named(DEPLOY, "sandbox-abc123-web").inputs


def test_deployment_image_env_probe_and_security() -> None:
    r = render(base_spec(platform={"size": "medium"}))
    dep = web(r)
    pod = dep["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == ProjectDefaults().workload_image
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["ports"][0]["containerPort"] == 8080
    env = {e["name"]: e for e in container["env"]}
    assert env["SANDBOX_MODE"]["value"] == "true"
    assert env["DATABASE_URL"]["valueFrom"] == {"secretKeyRef": {"name": "sandbox-abc123-db", "key": "url"}}
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert container["securityContext"] == container_security_context()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"] == SIZE_PRESETS[Size.MEDIUM].container.as_k8s()
    assert "nodeSelector" not in pod
    svc = r.named(SVC, "sandbox-abc123-web").inputs["spec"]
    assert svc["ports"][0]["port"] == 8080
    assert svc["selector"] == dep["spec"]["selector"]["matchLabels"]


def test_node_selector_from_project_config() -> None:
    r = render(base_spec(), ProjectDefaults(node_selector={"sandboxes.io/node": "real"}))
    assert web(r)["spec"]["template"]["spec"]["nodeSelector"] == {"sandboxes.io/node": "real"}


def test_image_from_spec_platform() -> None:
    spec = parse_spec(base_spec(platform={"image": "registry.local/platform:1.0", "version": "2.3.4"}))
    assert workload_image(spec, ProjectDefaults()) == "registry.local/platform:2.3.4"
    spec = parse_spec(base_spec(platform={"image": "registry.local:5000/platform"}))
    assert workload_image(spec, ProjectDefaults()) == "registry.local:5000/platform"
    spec = parse_spec(base_spec(platform={"version": "9"}))
    assert workload_image(spec, ProjectDefaults()) == "localhost/sandboxes/workload:9"


def test_settings_configmap_and_its_hash_on_the_pod_template() -> None:
    spec = base_spec(settings={"support": {"company": "Acme"}})
    r = render(spec)
    data = r.named(CM, "sandbox-abc123-settings").inputs["data"]
    assert set(data) == {"settings.json", "sandbox.json", "integrations.json"}
    assert json.loads(data["settings.json"])["support"]["company"] == "Acme"
    sandbox = json.loads(data["sandbox.json"])
    assert sandbox == {"slug": "sandbox-abc123", "name": "Test sandbox", "description": "",
                       "modules": ["cpo", "msp"], "url": "http://sandbox-abc123.sandboxes.localhost",
                       "provider": "acme"}
    assert json.loads(data["integrations.json"]) == dict.fromkeys(INTEGRATIONS, False)
    annotations = web(r)["spec"]["template"]["metadata"]["annotations"]
    assert annotations[SETTINGS_HASH_ANNOTATION] == settings_hash(data)


def test_settings_hash_changes_with_settings_only() -> None:
    url = "http://x"
    a = settings_hash(settings_data(parse_spec(base_spec()), url))
    b = settings_hash(settings_data(parse_spec(base_spec(settings={"billing": {"invoicing": True}})), url))
    c = settings_hash(settings_data(parse_spec(base_spec(platform={"size": "large"})), url))
    assert a != b
    assert a == c


def test_ingress_host_class_backend_without_tls() -> None:
    r = render(base_spec())
    ing = r.named(ING, "sandbox-abc123").inputs["spec"]
    assert ing["ingressClassName"] == "sandboxes"
    rule = ing["rules"][0]
    assert rule["host"] == "sandbox-abc123.sandboxes.localhost"
    assert rule["http"]["paths"][0]["path"] == "/"
    assert rule["http"]["paths"][0]["backend"] == {"service": {"name": "sandbox-abc123-web", "port": {"number": 8080}}}
    assert "tls" not in ing


def test_ingress_from_spec_with_tls() -> None:
    r = render(base_spec(platform={"base_domain": "sbx.example.com", "ingress_class": "nginx", "tls": True}))
    ing = r.named(ING, "sandbox-abc123").inputs["spec"]
    assert ing["ingressClassName"] == "nginx"
    assert ing["rules"][0]["host"] == "sandbox-abc123.sbx.example.com"
    assert ing["tls"] == [{"hosts": ["sandbox-abc123.sbx.example.com"], "secretName": "sandbox-abc123-tls"}]
    assert r.sandbox is not None and r.sandbox.url == "https://sandbox-abc123.sbx.example.com"


def test_project_defaults_for_ingress() -> None:
    r = render(base_spec(), ProjectDefaults(base_domain="apps.test", ingress_class="traefik"))
    ing = r.named(ING, "sandbox-abc123").inputs["spec"]
    assert ing["ingressClassName"] == "traefik"
    assert ing["rules"][0]["host"] == "sandbox-abc123.apps.test"
