"""Smoke program: every object kind whose await the sandbox stack relies on."""

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

ns_name = pulumi.Config().require("namespace")
labels = {"app.kubernetes.io/name": "smoke", "app.kubernetes.io/managed-by": "pulumi"}

ns = k8s.core.v1.Namespace("ns", metadata={"name": ns_name, "labels": labels})
opts = pulumi.ResourceOptions(depends_on=[ns])
meta = {"namespace": ns_name, "labels": labels}

password = random.RandomPassword("password", length=24, special=False)
secret = k8s.core.v1.Secret("secret", metadata={**meta, "name": "smoke"}, string_data={"password": password.result},
                            opts=opts)
pod_spec = {"containers": [{"name": "app", "image": "localhost/smoke:1", "ports": [{"containerPort": 8080}]}]}
deployment = k8s.apps.v1.Deployment(
    "web",
    metadata={**meta, "name": "web"},
    spec={"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
          "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec}},
    opts=opts,
)
service = k8s.core.v1.Service(
    "web-svc", metadata={**meta, "name": "web"},
    spec={"selector": {"app": "web"}, "ports": [{"port": 8080, "targetPort": 8080}]},
    opts=pulumi.ResourceOptions(depends_on=[deployment]),
)
ingress = k8s.networking.v1.Ingress(
    "ingress", metadata={**meta, "name": "web"},
    spec={"rules": [{"host": "smoke.sandboxes.localhost", "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 8080}}}}]}}]},
    opts=pulumi.ResourceOptions(depends_on=[service]),
)
pvc = k8s.core.v1.PersistentVolumeClaim(
    "data", metadata={**meta, "name": "data"},
    spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}, opts=opts,
)
job = k8s.batch.v1.Job(
    "job", metadata={**meta, "name": "once"},
    spec={"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
        {"name": "once", "image": "localhost/smoke:1", "command": ["true"]}]}}},
    opts=opts,
)
pulumi.export("namespace", ns.metadata["name"])
pulumi.export("password", password.result)
