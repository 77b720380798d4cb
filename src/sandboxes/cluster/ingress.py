"""The real node's ingress controller: Traefik (built from its Go module) as a host process on 127.0.0.1.

Traefik's ``kubernetesIngress`` provider serves every Ingress of the class ``sandboxes``
(the project default, ``sandboxes:ingressClass``) on ``127.0.0.1:80`` and, with TLS, on
``127.0.0.1:443`` (the certificate from the Ingress's ``tls`` Secret), and publishes
``127.0.0.1`` as their load-balancer address, so ``http://<slug>.sandboxes.localhost``
answers from this machine (``*.localhost`` names loopback). Backends are the Services'
endpoints: pod IPs on the real node's bridge, which the host reaches directly.

Traefik's Kubernetes provider authenticates with a bearer token only (no client
certificate), so it gets a ServiceAccount ``kube-system/sandboxes-ingress`` with a
read-only ClusterRole (plus ``ingresses/status``) and a token from the TokenRequest API,
written into its 0600 static configuration. Started, reported and stopped by
:mod:`sandboxes.cluster.realnode` as its fifth process.
"""

from __future__ import annotations

from pathlib import Path

import yaml

INGRESS_CLASS = "sandboxes"
CONTROLLER = "traefik.io/ingress-controller"
HTTP_ADDRESS = "127.0.0.1"
HTTP_PORT = 80
HTTPS_PORT = 443
PING_PORT = 10254
SERVICE_ACCOUNT = "sandboxes-ingress"
TOKEN_DURATION = "8760h"

RBAC = f"""
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {SERVICE_ACCOUNT}
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: sandboxes:ingress
rules:
- apiGroups: [""]
  resources: [services, endpoints, secrets, nodes]
  verbs: [get, list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
- apiGroups: [networking.k8s.io, extensions]
  resources: [ingresses, ingressclasses]
  verbs: [get, list, watch]
- apiGroups: [networking.k8s.io, extensions]
  resources: [ingresses/status]
  verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: sandboxes:ingress
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: sandboxes:ingress
subjects:
- kind: ServiceAccount
  name: {SERVICE_ACCOUNT}
  namespace: kube-system
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: {INGRESS_CLASS}
spec:
  controller: {CONTROLLER}
"""


def ports() -> list[tuple[str, str, int]]:
    return [("tcp", HTTP_ADDRESS, HTTP_PORT), ("tcp", HTTP_ADDRESS, HTTPS_PORT), ("tcp", "127.0.0.1", PING_PORT)]


def ping_url() -> str:
    return f"http://127.0.0.1:{PING_PORT}/ping"


def write_config(directory: Path, server: str, ca_file: Path, token: str) -> Path:
    """Traefik's static configuration (0600: it holds the token)."""
    config = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            "web": {"address": f"{HTTP_ADDRESS}:{HTTP_PORT}"},
            # TLS on every route: a sandbox with platform.tls gets its own certificate (the
            # Ingress's tls Secret, chosen by SNI), any other host Traefik's default one.
            "websecure": {"address": f"{HTTP_ADDRESS}:{HTTPS_PORT}", "http": {"tls": {}}},
            "traefik": {"address": f"127.0.0.1:{PING_PORT}"},
        },
        "ping": {"entryPoint": "traefik"},
        "log": {"level": "INFO"},
        "providers": {
            "kubernetesIngress": {
                "endpoint": server,
                "token": token,
                "certAuthFilePath": str(ca_file),
                "ingressClass": INGRESS_CLASS,
                "ingressEndpoint": {"ip": HTTP_ADDRESS},
                "allowEmptyServices": True,
            }
        },
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "traefik.yaml"
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
